"""DPF building blocks: backbone split points, the class partition, the poisoning function, SPFs."""
import pytest
import torch

from conftest import make_imageset
from imageprivacy.data.class_partition import partition_by_classes
from imageprivacy.errors import CheckpointError, DatasetError, InputShapeError, MissingLabelsError
from imageprivacy.nets import build_net
from imageprivacy.nets.split_points import (PAPER_HOOKS, UnknownHookError, feature_shape, hook_points,
                                            split_at)
from imageprivacy.protections.dpf import (STATIONARY, DeepPoisoningFunction, DPFConfig, build_stationary,
                                          train_poisoning_function)


def _net(name, width=4):
    return build_net(name, 1, 5, width=width).eval()


@pytest.mark.parametrize("hook", PAPER_HOOKS)
def test_resnet50_split_is_exact_at_every_paper_hook(hook):
    net = _net("resnet50")
    phi1, phi2 = split_at(net, hook)
    x = torch.rand(2, 1, 16, 16)
    assert torch.equal(phi2(phi1(x)), net(x))


@pytest.mark.parametrize("name", ["resnet18", "vgg11", "small-cnn", "densenet121"])
def test_every_hook_of_every_backbone_splits_exactly(name):
    net = _net(name, width=2)
    x = torch.rand(2, 1, 16, 16)
    expected = net(x)
    hooks = hook_points(net)
    for hook in hooks[::7] + hooks[-1:] if name == "densenet121" else hooks:   # DenseNet has 62 hooks
        phi1, phi2 = split_at(net, hook)
        assert torch.equal(phi2(phi1(x)), expected), hook


def test_split_shares_the_backbone_weights_and_trains_it():
    net = _net("resnet18")
    phi1, phi2 = split_at(net, "conv3_1")
    assert {id(p) for p in phi1.parameters()} | {id(p) for p in phi2.parameters()} == {id(p) for p in net.parameters()}
    assert not {id(p) for p in phi1.parameters()} & {id(p) for p in phi2.parameters()}


def test_hook_feature_sizes_on_28x28_match_the_documented_mapping():
    net = _net("resnet50")
    sides = {hook: feature_shape(split_at(net, hook).featurizer, (1, 28, 28))[1:] for hook in PAPER_HOOKS}
    assert sides == {"conv2_1": (28, 28), "conv2_3": (28, 28), "conv3_1": (14, 14), "conv4_1": (7, 7)}


def test_unknown_hook_is_a_typed_error_listing_the_hooks():
    with pytest.raises(UnknownHookError, match="conv2_2"):
        split_at(_net("resnet18"), "conv2_3")      # ResNet-18 has two blocks per stage
    with pytest.raises(UnknownHookError):
        split_at(build_net("linear", 1, 5, image_size=16), "conv1")
    assert issubclass(UnknownHookError, ValueError)


def test_partition_by_classes_renumbers_keeps_ids_and_is_seeded():
    train, val = make_imageset(n=64, seed=0), make_imageset(n=32, seed=1)
    parts = partition_by_classes(train, val, (2, 0), (1, 3), sizes=(10, None, None, 5), seed=3)
    s = parts.private_train
    assert len(s) == 10 and set(s.images.labels.tolist()) <= {0, 1}
    # label 0 means original class 2: the ids point back at images of that class
    assert (train.labels[s.ids] == torch.tensor([2, 0])[s.images.labels]).all()
    assert torch.equal(train.images[s.ids], s.images.images)
    assert s.images.class_names == ["class2", "class0"] and len(parts.public_val) == 5
    again = partition_by_classes(train, val, (2, 0), (1, 3), sizes=(10, None, None, 5), seed=3)
    assert torch.equal(again.private_train.ids, s.ids)
    assert set(parts.public_train.ids.tolist()).isdisjoint(s.ids.tolist())
    with pytest.raises(DatasetError, match="both private and public"):
        partition_by_classes(train, val, (0, 1), (1, 2))
    with pytest.raises(DatasetError):
        partition_by_classes(train, val, (0, 9))


def test_dpf_keeps_the_feature_shape_starts_as_identity_and_checks_channels():
    poison = DeepPoisoningFunction(DPFConfig(channels=8)).eval()
    features = torch.rand(3, 8, 7, 7)
    out = poison(features)
    assert out.shape == features.shape and len(poison.blocks) == 4
    assert torch.allclose(out, features)          # zero-initialised last BN: identity on ReLU features
    with pytest.raises(InputShapeError, match="8"):
        poison(torch.rand(3, 6, 7, 7))
    with pytest.raises(ValueError, match="objective"):
        DPFConfig(channels=8, objective="mse")


def test_dpf_checkpoint_round_trip_with_config(tmp_path):
    poison = DeepPoisoningFunction(DPFConfig(channels=4, blocks=2, lam=0.5))
    torch.nn.init.normal_(poison.blocks[0].body[-1].weight)
    path = poison.save(tmp_path / "p.safetensors", {"hook": "conv3_1"})
    loaded, saved = DeepPoisoningFunction.load(path)
    x = torch.rand(2, 4, 5, 5)
    assert torch.equal(loaded(x), poison.eval()(x))
    assert loaded.config == poison.config and saved["hook"] == "conv3_1"
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        DeepPoisoningFunction.load(tmp_path / "bad.safetensors")


def _tiny_models(seed=0):
    torch.manual_seed(seed)
    net = build_net("resnet18", 1, 4, width=4).eval()
    phi1, phi2 = split_at(net, "conv3_1")
    return phi1, phi2, feature_shape(phi1, (1, 16, 16))


@pytest.mark.parametrize("objective", ["ssim", "decorrelation", "random-labels"])
def test_dpf_training_moves_only_p(objective):
    from imageprivacy.attacks.dpf.reconstructors import build_reconstructor

    data = make_imageset(n=32)
    phi1, phi2, shape = _tiny_models()
    byproduct = (split_at(build_net("resnet18", 1, 4, width=4), "conv3_1").classifier if objective == "random-labels"
                 else build_reconstructor("px2s2", shape, (1, 16, 16)))
    frozen = {k: v.clone() for k, v in [*phi2.state_dict().items(), *byproduct.state_dict().items()]}
    poison = DeepPoisoningFunction(DPFConfig(channels=shape[0], objective=objective, epochs=2, batch_size=16))
    before = [p.clone() for p in poison.parameters()]
    history = train_poisoning_function(poison, phi1, phi2, byproduct, data.images, data.labels,
                                       private_labels=data.labels)
    assert len(history["loss"]) == 2 and all(torch.isfinite(torch.tensor(history["loss"])))
    assert any(not torch.equal(a, b) for a, b in zip(before, poison.parameters()))
    after = {k: v for k, v in [*phi2.state_dict().items(), *byproduct.state_dict().items()]}
    assert all(torch.equal(frozen[k], after[k]) for k in frozen)        # BN statistics included
    assert all(p.requires_grad for p in phi2.parameters())              # restored afterwards
    if objective == "random-labels":
        with pytest.raises(MissingLabelsError):
            train_poisoning_function(poison, phi1, phi2, byproduct, data.images, data.labels)


@pytest.mark.parametrize("name", STATIONARY)
def test_stationary_functions_keep_shape_and_change_features(name):
    features = torch.rand(2, 8, 7, 7)
    out = build_stationary(name, feature_std=features.std().item())(features)
    assert out.shape == features.shape and not torch.allclose(out, features)
    with pytest.raises(ValueError):
        build_stationary("median-filter")


def test_dpf_lowers_the_straw_man_ssim_and_keeps_phi2_predictions():
    """The mechanism on toy data: psi reconstructs from phi1, P makes it fail, phi2 answers as before."""
    from imageprivacy.attacks.reconstructor_training import reconstruct, train_reconstructor
    from imageprivacy.attacks.dpf.reconstructors import build_reconstructor
    from imageprivacy.metrics.reconstruction import reconstruction_scores

    data = make_imageset(n=64)
    phi1, phi2, shape = _tiny_models()
    psi = build_reconstructor("px2s2", shape, (1, 16, 16))
    train_reconstructor(psi, phi1, data.images, epochs=8, batch_size=16, lr=1e-2)
    poison = DeepPoisoningFunction(DPFConfig(channels=shape[0], epochs=4, batch_size=16, lr=1e-2))
    train_poisoning_function(poison, phi1, phi2, psi, data.images, phi2(phi1(data.float())).argmax(1))
    with torch.no_grad():
        original = phi1(data.float())
        poisoned = poison(original)
    before = reconstruction_scores(reconstruct(psi, original), data.float())["ssim"]
    after = reconstruction_scores(reconstruct(psi, poisoned), data.float())["ssim"]
    agreement = (phi2(poisoned).argmax(1) == phi2(original).argmax(1)).float().mean().item()
    assert after < before - 0.2 and agreement >= 0.9, (before, after, agreement)


def test_poisoning_function_fits_like_a_protection():
    images = torch.randint(0, 256, (16, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(16) % 2
    featurize = torch.nn.Conv2d(1, 4, 3, padding=1).requires_grad_(False)
    classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 2))
    byproduct = torch.nn.Sequential(torch.nn.Conv2d(4, 1, 1), torch.nn.Sigmoid())      # a straw-man psi
    config = DPFConfig(channels=4, epochs=2, batch_size=8)
    torch.manual_seed(0)
    direct = DeepPoisoningFunction(config)
    history = train_poisoning_function(direct, featurize, classifier, byproduct, images, labels)
    torch.manual_seed(0)
    poison = DeepPoisoningFunction(config)
    assert poison.fit(featurize, classifier, byproduct, images, labels) is poison
    # fit is the training loop: from the same start and seed, the same history and the same P
    assert poison.fit_record == history and len(history["loss"]) == 2
    assert all(torch.equal(a, b) for a, b in zip(poison.state_dict().values(), direct.state_dict().values()))


def test_decorrelation_cannot_be_won_by_inversion_or_a_remap():
    from imageprivacy.protections.dpf.byproduct_losses import decorrelation_term, pearson_correlation

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 16, 16, generator=gen)
    r = (0.7 * x + 0.1 * torch.rand(x.shape, generator=gen)).clamp(0, 1)
    corr = pearson_correlation(r, x)
    assert torch.allclose(pearson_correlation(0.3 * r + 0.2, x), corr, atol=1e-5)
    assert torch.allclose(pearson_correlation(1 - r, x), -corr, atol=1e-5)
    assert torch.equal(pearson_correlation(torch.full_like(x, 0.5), x), torch.zeros(4))
    # the negative image is exactly as penalised as the image: the two SSIM signs swap, |corr| stays
    assert decorrelation_term(1 - r, x, 1.0).item() == pytest.approx(decorrelation_term(r, x, 1.0).item(), abs=1e-5)
    noise = torch.rand(x.shape, generator=gen)
    assert decorrelation_term(noise, x, 1.0) < 0.2 < decorrelation_term(r, x, 1.0)
    assert decorrelation_term(r, x, 0.0).item() == pytest.approx(corr.abs().mean().item(), abs=1e-6)


def test_dpf_trains_against_an_ensemble_and_refreshes_it():
    from imageprivacy.attacks.dpf.reconstructors import build_reconstructor

    data = make_imageset(n=32)
    phi1, phi2, shape = _tiny_models()
    ensemble = [build_reconstructor(name, shape, (1, 16, 16)) for name in ("px2s2", "u8")]
    calls = []

    def refresh(epoch, poison):
        calls.append((epoch, poison.training))
        return [build_reconstructor("u8", shape, (1, 16, 16))]
    poison = DeepPoisoningFunction(DPFConfig(channels=shape[0], epochs=3, batch_size=16, refresh_every=2))
    history = train_poisoning_function(poison, phi1, phi2, ensemble, data.images, data.labels, refresh=refresh)
    assert calls == [(2, False)] and history["refreshed_at"] == [2]         # P handed over in eval mode
    assert [len(each) for each in history["byproduct_each"]] == [2, 2, 1]
    assert history["byproduct"][0] == pytest.approx(sum(history["byproduct_each"][0]) / 2)
    assert all(p.requires_grad for m in ensemble for p in m.parameters())
    with pytest.raises(ValueError, match="refresh_on"):
        DPFConfig(channels=4, refresh_on="both")
    with pytest.raises(ValueError, match="decoders"):
        DPFConfig(channels=4, decoders=())
    assert DPFConfig.from_dict({"channels": 4, "decoders": ["u8"]}).decoders == ("u8",)


def test_decorrelating_dpf_beats_the_straw_man_as_an_attacker_scores_it():
    """Toy data: after P, the best of raw / negative / affine SSIM of psi falls well below its clean level."""
    from imageprivacy.attacks.dpf.reconstructors import build_reconstructor
    from imageprivacy.attacks.reconstructor_training import reconstruct, train_reconstructor
    from imageprivacy.metrics.attacker_side import IntensityRemap, attacker_side_scores

    data, public = make_imageset(n=64), make_imageset(n=64, seed=5)
    phi1, phi2, shape = _tiny_models()
    psi = build_reconstructor("px2s2", shape, (1, 16, 16))
    train_reconstructor(psi, phi1, public.images, epochs=8, batch_size=16, lr=1e-2)
    labels = phi2(phi1(data.float())).argmax(1)
    poison = DeepPoisoningFunction(DPFConfig(channels=shape[0], epochs=4, batch_size=16, lr=1e-2))
    assert poison.config.objective == "decorrelation"
    train_poisoning_function(poison, phi1, phi2, psi, data.images, labels)
    with torch.no_grad():
        original, public_features = phi1(data.float()), phi1(public.float())
        poisoned = poison(original)
    remap = IntensityRemap.fit(reconstruct(psi, public_features), public.float())
    before = attacker_side_scores(reconstruct(psi, original), data.float(), remap)["best"]["ssim"]
    after = attacker_side_scores(reconstruct(psi, poisoned), data.float(), remap)["best"]["ssim"]
    agreement = (phi2(poisoned).argmax(1) == labels).float().mean().item()
    assert after < before - 0.2 and agreement >= 0.9, (before, after, agreement)
