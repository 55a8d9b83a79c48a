"""DeepObfuscator's networks (Table 1, Table 2), the deployed Obfuscator file, MS-SSIM parameters, NaN losses."""
import pytest
import torch

from imageprivacy.attacks.obfuscator.msssim_reconstruction import train_msssim_reconstructor
from imageprivacy.attacks.obfuscator.reconstructors import RECONSTRUCTORS, build_feature_reconstructor
from imageprivacy.errors import (CheckpointError, ConfigurationError, InputRangeError, InputShapeError,
                                 NonFiniteLossError)
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams, image_similarity, per_image_msssim
from imageprivacy.nets.obfuscator_nets import FeatureClassifier, MirrorReconstructor, ObfuscatorArch
from imageprivacy.obfuscator import Obfuscator
from imageprivacy.protections.obfuscator import (AdversarialConfig, DeepObfuscator, load_classifier, noise_image,
                                                 save_classifier, train_adversarially)
from imageprivacy.protections.obfuscator.adversarial_training import ATTRIBUTE_LOSSES, conditional_prior

TINY = ObfuscatorArch(channels=1, image_size=(16, 16), width=4, depth=1, hidden=16)


@pytest.mark.parametrize("arch", [ObfuscatorArch(width=2, depth=3, hidden=8),                      # 28x28, VGG16
                                  ObfuscatorArch(channels=3, image_size=(54, 45), width=2, depth=1, hidden=8)])
def test_module_shapes_follow_table_1_and_2(arch):
    x = torch.rand(2, arch.channels, *arch.image_size)
    obfuscator = Obfuscator(arch)
    features = obfuscator(x)
    assert features.shape == (2, *arch.feature_shape()) == (2, 2 * arch.width, arch.image_size[0] // 4,
                                                            arch.image_size[1] // 4)
    assert FeatureClassifier(arch, 5)(features).shape == (2, 5)
    for name in RECONSTRUCTORS:
        out = build_feature_reconstructor(name, arch).eval()(features)
        assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1, name
    convs = [m for m in obfuscator.modules() if isinstance(m, torch.nn.Conv2d)]
    deconvs = [m for m in MirrorReconstructor(arch).modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(d.out_channels, d.in_channels) for d in deconvs[::-1]]
    if arch.depth == 3:
        classifier_convs = [m for m in FeatureClassifier(arch, 2).modules() if isinstance(m, torch.nn.Conv2d)]
        assert len(convs) == 4 and len(classifier_convs) == 9


def test_bottleneck_narrows_the_released_features_and_every_module_follows(tmp_path):
    arch = ObfuscatorArch(channels=1, image_size=(16, 16), width=4, depth=1, hidden=16, bottleneck=2)
    x = torch.rand(3, 1, 16, 16)
    obfuscator = Obfuscator(arch).eval()
    features = obfuscator(x)
    assert features.shape == (3, 2, 4, 4) == (3, *arch.feature_shape())
    assert FeatureClassifier(arch, 4)(features).shape == (3, 4)
    for name in RECONSTRUCTORS:
        assert build_feature_reconstructor(name, arch).eval()(features).shape == x.shape, name
    convs = [m for m in obfuscator.modules() if isinstance(m, torch.nn.Conv2d)]
    deconvs = [m for m in MirrorReconstructor(arch).modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(d.out_channels, d.in_channels) for d in deconvs[::-1]]
    obfuscator.save(tmp_path)
    loaded = Obfuscator.load(tmp_path)
    assert loaded.arch.bottleneck == 2 and torch.equal(loaded(x), features)
    old = {k: v for k, v in arch.to_dict().items() if k != "bottleneck"}      # a file from before the field
    assert ObfuscatorArch.from_dict(old).bottleneck == 0
    with pytest.raises(ConfigurationError, match="bottleneck"):
        ObfuscatorArch(bottleneck=-1)


@pytest.mark.parametrize("bottleneck", [0, 2])
def test_code_releases_a_few_numbers_that_every_decoder_maps_back(tmp_path, bottleneck):
    arch = ObfuscatorArch(channels=1, image_size=(16, 16), width=4, depth=1, hidden=16, bottleneck=bottleneck, code=3)
    x = torch.rand(5, 1, 16, 16)
    obfuscator = Obfuscator(arch).eval()
    features = obfuscator(x)
    assert features.shape == (5, 3, 1, 1) == (5, *arch.feature_shape())
    assert arch.map_shape() == (bottleneck or 8, 4, 4)
    assert FeatureClassifier(arch, 4)(features).shape == (5, 4)
    for name in RECONSTRUCTORS:
        decoder = build_feature_reconstructor(name, arch)
        decoder.train()(features)                       # BatchNorm1d needs a batch in training
        assert decoder.eval()(features).shape == x.shape, name
    obfuscator.save(tmp_path)
    loaded = Obfuscator.load(tmp_path)
    assert loaded.arch.code == 3 and torch.equal(loaded(x), features)
    assert ObfuscatorArch.from_dict({k: v for k, v in arch.to_dict().items() if k != "code"}).code == 0
    with pytest.raises(ConfigurationError, match="code"):
        ObfuscatorArch(code=-1)


def test_obfuscator_load_round_trip_and_input_checks(tmp_path):
    obfuscator = Obfuscator(TINY, {"task": "0,1/2,3"})
    torch.nn.init.normal_(obfuscator.front.layers[0].weight)
    obfuscator.save(tmp_path)
    classifier = FeatureClassifier(TINY, 2)
    save_classifier(tmp_path, classifier, {"task_names": ["a", "b"]})
    x = torch.rand(3, 1, 16, 16)
    for path in (tmp_path, tmp_path / "obfuscator.safetensors"):
        loaded = Obfuscator.load(path)
        assert not loaded.training and loaded.about == {"task": "0,1/2,3"}
        assert torch.equal(loaded(x), obfuscator.eval()(x))
    assert torch.equal(loaded.encode((x * 255).round().to(torch.uint8)), loaded(((x * 255).round() / 255)))
    c, about = load_classifier(tmp_path)
    assert torch.equal(c(loaded(x)), classifier.eval()(loaded(x))) and about["task_names"] == ["a", "b"]
    with pytest.raises(InputRangeError):
        loaded(x * 2)
    with pytest.raises(InputShapeError, match="16x16"):
        loaded(torch.rand(1, 1, 20, 20))
    with pytest.raises(CheckpointError):
        Obfuscator.load(tmp_path / "classifier.safetensors")
    with pytest.raises(CheckpointError):
        Obfuscator.load(tmp_path / "nothing")


def test_msssim_parameters_fit_small_images():
    p28, p16 = MSSSIMParams.for_size(28, 28), MSSSIMParams.for_size(16, 16)
    assert (p28.scales, p28.kernel_size, p28.sigma, p28.data_range) == (3, 7, 0.9545, 1.0)
    assert (p16.kernel_size, p16.sigma) == (3, 0.4091) and sum(p28.betas) == pytest.approx(1.0, abs=1e-3)
    assert MSSSIMParams.for_size(64, 64).kernel_size == 11
    with pytest.raises(InputShapeError):
        MSSSIMParams.for_size(8, 8)
    x = torch.rand(4, 1, 28, 28)
    assert per_image_msssim(x, x, p28) == pytest.approx(torch.ones(4))
    assert image_similarity(x, x)["ms_ssim"] == pytest.approx(1.0)
    flat = image_similarity(torch.full_like(x, 0.5), x)
    assert flat["ms_ssim"] < 0.3 and 0 < flat["psnr_db"] < 20
    target = noise_image((1, 28, 28), seed=3)
    assert target.shape == (1, 1, 28, 28) and torch.equal(target, noise_image((1, 28, 28), seed=3))


def test_nan_loss_raises_instead_of_falling_back():
    images = torch.randint(0, 256, (16, 1, 16, 16), dtype=torch.uint8)
    labels = torch.zeros(16, dtype=torch.int64)
    net = DeepObfuscator(TINY, 2, 4)
    with torch.no_grad():
        net.classifier.head[-1].bias.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="step 0"):
        train_adversarially(net, images, labels, labels, AdversarialConfig(epochs=1, batch_size=8),
                            MSSSIMParams.for_size(16, 16))
    broken = MirrorReconstructor(TINY)
    with torch.no_grad():
        broken.layers[-2].bias.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="MS-SSIM"):
        train_msssim_reconstructor(broken, net.obfuscator.eval(), images, epochs=1, batch_size=8)


def test_conditional_prior_is_the_guessing_distribution_given_the_task():
    task, private = torch.tensor([0, 0, 0, 1]), torch.tensor([0, 0, 1, 2])
    prior = conditional_prior(task, private, num_private=3)       # add-one smoothed counts, per task row
    assert torch.allclose(prior, torch.tensor([[3 / 6, 2 / 6, 1 / 6], [1 / 4, 1 / 4, 2 / 4]]))


def test_attribute_loss_option_changes_the_defence_and_is_checked():
    images = torch.randint(0, 256, (32, 1, 16, 16), dtype=torch.uint8)
    task, private = torch.arange(32) % 2, torch.arange(32) % 4
    torch.manual_seed(0)
    start, trained = DeepObfuscator(TINY, 2, 4).state_dict(), []
    for loss in ATTRIBUTE_LOSSES:
        net = DeepObfuscator(TINY, 2, 4)
        net.load_state_dict(start)
        history = train_adversarially(net, images, task, private, AdversarialConfig(epochs=1, batch_size=8,
                                      attribute_loss=loss), MSSSIMParams.for_size(16, 16))
        assert all(v is not None and v == v for v in history["attribute"])
        trained.append(net.obfuscator.state_dict())
    # same start, same batches: only the AC defence term differs, so the obfuscators must differ
    assert any(not torch.equal(a, b) for a, b in zip(trained[0].values(), trained[1].values()))
    with pytest.raises(ValueError, match="attribute_loss"):
        AdversarialConfig(attribute_loss="entropy")


def test_run_key_names_attribute_loss_only_when_not_the_papers():
    from imageprivacy.experiments.obfuscator.run import ObfuscatorExperimentConfig, run_key
    from imageprivacy.experiments.obfuscator.stages import ADVERSARIAL_FIELDS

    paper = ObfuscatorExperimentConfig()
    assert "attribute_loss" not in run_key(paper, *ADVERSARIAL_FIELDS)     # older runs' stages still match
    assert '"attribute_loss": "conditional-prior"' in run_key(
        ObfuscatorExperimentConfig(attribute_loss="conditional-prior"), *ADVERSARIAL_FIELDS)


def test_deep_obfuscator_fits_and_encodes_like_a_protection():
    images = torch.randint(0, 256, (16, 1, 16, 16), dtype=torch.uint8)
    task, private = torch.arange(16) % 2, torch.arange(16) % 4
    torch.manual_seed(0)
    net = DeepObfuscator(TINY, 2, 4)
    before = {k: v.clone() for k, v in net.obfuscator.state_dict().items()}
    adversarial = AdversarialConfig(epochs=1, batch_size=8)
    assert net.fit(images, task, private, adversarial, pretrain_epochs=1, adversary_epochs=1) is net
    assert set(net.fit_record) == {"pretraining", "adversaries", "adversarial"}
    assert len(net.fit_record["adversarial"]["task"]) == 1
    assert any(not torch.equal(before[k], v) for k, v in net.obfuscator.state_dict().items())
    features = net.encode(images)
    assert features.shape == (16, *TINY.feature_shape()) and torch.equal(features, net.obfuscator.encode(images))
