"""Every registered protection: budget, shapes, dtypes, typed errors; ConfounderGAN specifics."""
import math

import pytest
import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import (ConfigurationError, InputRangeError, InputShapeError, MissingLabelsError,
                                 NotFittedError)
from imageprivacy.nets.generator import GeneratorConfig
from imageprivacy.protections import PROTECTIONS, ConfounderGAN, ConfounderGANConfig
from imageprivacy.protections.pixel_budget import apply_noise_uint8, budget_in_levels
from imageprivacy.protections.unlearnable.confounder_gan import paper_default_epsilon
from imageprivacy.protections.unlearnable.pattern_draw import template_match

EPS = 0.05          # 12.75 levels: the written pixels may move 12 levels, never 13
NAMES = sorted(PROTECTIONS)


def _labels_for(method, data):
    return data.labels if method.needs_labels_to_protect else None


def test_registry_has_the_methods():
    assert {"confoundergan", "random", "classwise"} <= set(PROTECTIONS)


@pytest.mark.parametrize("rgb", [False, True], ids=["gray", "rgb"])
@pytest.mark.parametrize("name", NAMES)
def test_protect_respects_budget(name, rgb, fit_protection, tiny_set, tiny_rgb_set):
    data = tiny_rgb_set if rgb else tiny_set
    method = fit_protection(name, rgb=rgb, epsilon=EPS)
    assert method.fitted and method.channels == data.channels
    before = data.images.clone()
    out = method.protect(data.images, _labels_for(method, data))
    assert torch.equal(data.images, before), "protect modified its input"
    assert out.dtype == torch.uint8 and out.shape == data.images.shape
    change = (out.int() - data.images.int()).abs()
    if method.bounded:                  # class-wise patches replace pixels: test_baselines checks them
        assert change.max() <= budget_in_levels(EPS) == 12
    assert change.max() > 0, "the protection changed nothing"

    x = data.float()
    x_before = x.clone()
    out_f = method.protect(x, _labels_for(method, data))
    assert torch.equal(x, x_before)
    assert out_f.dtype == x.dtype and out_f.shape == x.shape
    if method.bounded:
        assert (out_f - x).abs().max() <= EPS + 1e-6
    assert out_f.min() >= 0 and out_f.max() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_typed_errors(name, fit_protection, tiny_set):
    cls = PROTECTIONS[name]
    with pytest.raises(NotFittedError):
        cls().protect(tiny_set.images, tiny_set.labels)
    method = fit_protection(name, epsilon=EPS)
    labels = tiny_set.labels[:4]
    with pytest.raises(InputShapeError, match="channel"):
        method.protect(torch.zeros(4, 3, 16, 16, dtype=torch.uint8), labels)
    with pytest.raises(InputShapeError, match="N, C, H, W"):
        method.protect(torch.zeros(1, 16, 16, dtype=torch.uint8), labels[:1])
    for bad in (torch.full((4, 1, 16, 16), 1.5), torch.full((4, 1, 16, 16), -0.1)):
        with pytest.raises(InputRangeError):
            method.protect(bad, labels)
    for value in (float("nan"), float("inf"), -float("inf")):
        bad = torch.full((4, 1, 16, 16), 0.5)
        bad[1, 0, 3, 4] = value
        with pytest.raises(InputRangeError, match="NaN or infinite"):
            method.protect(bad, labels)
    for shape in ((0, 1, 16, 16), (1, 1, 0, 0), (1, 1, 16, 0), (1, 0, 16, 16)):
        for dtype in (torch.uint8, torch.float32):
            with pytest.raises(InputShapeError, match="empty"):
                method.protect(torch.zeros(shape, dtype=dtype), None)
    with pytest.raises(InputRangeError, match="float"):
        method.protect(torch.zeros(4, 1, 16, 16, dtype=torch.int64), labels)
    if method.needs_labels_to_protect:
        with pytest.raises(MissingLabelsError):
            method.protect(tiny_set.images[:4])
    if cls.needs_labels_to_fit:
        with pytest.raises(MissingLabelsError):
            cls(**{"epsilon": EPS}).fit(ImageSet(tiny_set.images))
    for eps in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="epsilon"):
            cls(epsilon=eps)


def test_classwise_label_checks(fit_protection, tiny_set):
    method = fit_protection("classwise", epsilon=EPS)
    with pytest.raises(InputRangeError):
        method.protect(tiny_set.images[:2], torch.tensor([0, 9]))
    with pytest.raises(InputShapeError):
        method.protect(tiny_set.images[:2], torch.tensor([0]))
    with pytest.raises(InputShapeError, match="fitted on"):
        method.protect(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), torch.tensor([0, 1]))
    noise = method.protect(tiny_set.images, tiny_set.labels).int() - tiny_set.images.int()
    interior = (tiny_set.images >= 12) & (tiny_set.images <= 243)          # where +-12 is not clamped
    expected = 12 * torch.sign(method.patterns[tiny_set.labels]).int()       # sign noise: one pattern per class
    assert torch.equal(noise[interior], expected[interior])
    assert not torch.equal(expected[0], expected[tiny_set.labels != tiny_set.labels[0]][0])


def test_apply_noise_uint8_clips_at_budget():
    images = torch.tensor([[[[0, 5, 128, 250, 255, 100]]]], dtype=torch.uint8)
    noise = torch.tensor([[[[-1.0, -1.0, 1.0, 1.0, 1.0, 3.4 / 255]]]])
    out = apply_noise_uint8(images, noise, EPS)
    assert out.dtype == torch.uint8
    assert out.flatten().tolist() == [0, 0, 140, 255, 255, 103]
    assert apply_noise_uint8(images, -noise, 8 / 255).flatten().tolist() == [8, 13, 120, 242, 247, 97]
    assert budget_in_levels(8 / 255) == 8 and budget_in_levels(16 / 255) == 16 and budget_in_levels(0.1) == 25


@pytest.mark.parametrize("kind", ["mixture", "direct"])
def test_confoundergan_kinds(kind, fit_protection, tiny_set):
    cg = fit_protection("confoundergan", kind=kind)
    assert cg.epsilon == pytest.approx(16 / 255)         # auto: the paper's budget for gray 16x16
    assert cg.config.generator.kind == kind and cg.config.generator.num_classes == 4
    other_size = torch.randint(0, 256, (3, 1, 37, 23), dtype=torch.uint8)
    out = cg.protect(other_size)                           # another size than trained, no labels
    assert out.shape == other_size.shape
    assert (out.int() - other_size.int()).abs().max() <= 16
    unlabeled = ImageSet(tiny_set.images[:8])
    assert cg.protect(unlabeled.images).shape == unlabeled.images.shape
    assert torch.equal(cg.protect(tiny_set.images), cg.protect(tiny_set.images))   # deterministic
    history = cg.fit_record
    assert len(history["generator"]) == 1 and len(history["f"]["train_acc"]) == 1
    assert set(history["generator"][0]) >= {"loss_d", "confounder", "hinge", "adv", "f_agrees", "l2_ratio"}
    assert all(math.isfinite(v) for v in history["generator"][0].values())
    assert history["c"] == pytest.approx(0.8 * cg.epsilon * 16)
    if kind == "mixture":
        with torch.no_grad():
            picks = cg.generator.mixing_logits(tiny_set.float()).argmax(1)
        labels = tiny_set.labels
        majority = sum(picks[labels == k].bincount().max().item() for k in labels.unique())
        assert cg.label_consistency(tiny_set) == majority / len(labels)
        # Labelled by its own picks, each class has one pattern; with one label, only the commonest pattern counts.
        assert cg.label_consistency(ImageSet(tiny_set.images, picks, ["a", "b", "c", "d"])) == 1.0
        one_class = ImageSet(tiny_set.images, torch.zeros_like(labels), ["all"])
        assert cg.label_consistency(one_class) == picks.bincount().max().item() / len(picks)
    else:
        assert cg.label_consistency(tiny_set) is None
    text = repr(cg)
    assert text.startswith("ConfounderGAN(") and "16/255" in text and f"kind='{kind}'" in text


def test_confoundergan_progress_and_seed(tiny_set):
    events = []
    options = dict(epochs=1, f_epochs=1, width=4, f_arch="linear", epsilon=EPS, seed=3)
    a = ConfounderGAN(**options).fit(tiny_set, progress=lambda e, v: events.append((e, v)))
    b = ConfounderGAN(**options).fit(tiny_set)
    assert ("stage", "training generator") in [(e, v.get("stage")) for e, v in events]
    assert [v["epoch"] for e, v in events if e == "epoch" and "confounder" in v] == [1]
    assert torch.equal(a.protect(tiny_set.images), b.protect(tiny_set.images))   # seeded


def test_paper_default_epsilon():
    assert paper_default_epsilon(1, 28) == 16 / 255
    assert paper_default_epsilon(3, 32) == 8 / 255
    assert paper_default_epsilon(3, 28) == 16 / 255


def test_confoundergan_accepts_float64(fit_protection, tiny_set):
    cg = fit_protection("confoundergan", kind="mixture")
    x = tiny_set.float()[:4].double()
    assert cg.protect(x).dtype == torch.float64


def test_confoundergan_label_weight_teaches_the_selector_the_label(tiny_set):
    # 16 steps (one batch an epoch): the selector's BatchNorm running statistics, used when it picks in
    # eval mode, need that many updates to match the batch statistics it was trained with.
    options = dict(epochs=16, f_epochs=1, width=4, f_arch="small-cnn", f_width=4, epsilon=EPS, lr_g=1e-2)
    cg = ConfounderGAN(label_weight=5.0, **options).fit(tiny_set)
    with torch.no_grad():
        picks = cg.generator.mixing_logits(tiny_set.images.float() / 255).argmax(1)
    # The term ties pattern k to class k directly, so the pick itself is the label (not just consistent).
    assert (picks == tiny_set.labels).float().mean() >= 0.9
    assert cg.config.label_weight == 5.0


def test_confoundergan_label_aware_path_gives_each_label_its_own_pattern(fit_protection, tiny_set):
    cg = fit_protection("confoundergan", kind="mixture")
    x = tiny_set.images[:8]
    flipped = (tiny_set.labels[:8] + 1) % tiny_set.num_classes
    by_label = cg.protect(x, labels=tiny_set.labels[:8]).int() - x.int()
    by_other = cg.protect(x, labels=flipped).int() - x.int()
    expected = torch.round(cg.generator.pattern_noise(tiny_set.labels[:8], 16, 16) * 255).int()
    inside = (x.int() + expected >= 0) & (x.int() + expected <= 255)     # where clipping to [0, 255] did not bite
    e = budget_in_levels(cg.epsilon)
    assert torch.equal(by_label[inside], expected.clamp(-e, e)[inside])
    assert not torch.equal(by_label, by_other)
    with pytest.raises(ValueError):
        cg.protect(x, labels=torch.full((8,), 99))


def test_confoundergan_takes_its_config_or_its_fields(tiny_set):
    options = dict(epochs=1, f_epochs=1, f_arch="linear", kind="direct", width=4)
    config = ConfounderGANConfig(epochs=1, f_epochs=1, f_arch="linear",
                                 generator=GeneratorConfig(kind="direct", width=4))
    by_fields, by_config = ConfounderGAN(epsilon=EPS, **options), ConfounderGAN(epsilon=EPS, config=config)
    assert by_fields.config == by_config.config and repr(by_fields) == repr(by_config)
    assert ConfounderGAN(epsilon=EPS, config=config, epochs=3).config.epochs == 3 and config.epochs == 1
    by_fields.fit(tiny_set)
    # fit fills in the generator's data fields and records what it measured apart from the config.
    assert by_fields.config.generator.num_classes == 4 and by_fields.config.generator.epsilon == EPS
    assert set(by_fields.fit_record) == {"f", "generator", "c"}
    with pytest.raises(ConfigurationError, match="takes no option bogus"):
        ConfounderGAN(bogus=1)



def test_confoundergan_full_budget_protects_with_the_sign_of_each_pattern(tiny_set):
    # One pattern draw: which of several draws is kept is judged as protect writes them, so it may differ.
    options = dict(epochs=1, f_epochs=1, width=4, f_arch="small-cnn", f_width=4, epsilon=EPS, selector_epochs=0,
                   pattern_draws=1, patterns="drawn", amplitude=1.0)
    soft = ConfounderGAN(full_budget=False, **options).fit(tiny_set)
    full = ConfounderGAN(full_budget=True, **options).fit(tiny_set)
    x = tiny_set.images[:8]
    # Training is the same (tanh patterns): the two differ only in what protect writes.
    assert torch.equal(soft.generator.patterns, full.generator.patterns)
    e = budget_in_levels(EPS)
    change = full.protect(x).int() - x.int()
    inside = (x.int() >= e) & (x.int() <= 255 - e)           # where clipping to [0, 255] cannot bite
    assert set(change[inside].abs().unique().tolist()) == {e}
    soft_change = soft.protect(x).int() - x.int()
    assert soft_change[inside].abs().float().mean() < e
    moved = inside & (soft_change != 0)
    assert torch.equal(torch.sign(change[moved]), torch.sign(soft_change[moved]))    # same patterns, saturated
    full.generator.train()
    assert (full.generator.pattern_tiles().abs() < 1).any()          # training keeps tanh, not its signs


def test_confoundergan_scratch_surrogate_replaces_the_pretrained_f(tiny_set):
    options = dict(epochs=2, width=4, epsilon=EPS, selector_epochs=0, surrogate_arch="small-cnn", surrogate_width=4,
                   pattern_lr=0.05)
    cg = ConfounderGAN(f_weight=0.0, surrogate_weight=1.0, **options).fit(tiny_set)
    assert cg.fit_record["f"] is None                         # no f was pretrained
    game = cg.fit_record["generator"]
    assert all(0.0 <= epoch["surrogate_acc"] <= 1.0 for epoch in game) and game[-1]["f_agrees"] == 0.0
    with_f = ConfounderGAN(f_epochs=1, f_arch="small-cnn", f_width=4, **options).fit(tiny_set)
    assert with_f.fit_record["f"] is not None and with_f.fit_record["generator"][-1]["surrogate_acc"] == 0.0
    # The surrogate's error moves the patterns: they differ from a fit through f alone, same seed.
    assert not torch.equal(cg.generator.patterns, with_f.generator.patterns)


def test_confoundergan_pattern_lr_zero_keeps_the_random_patterns(tiny_set):
    options = dict(epochs=2, f_epochs=1, width=4, f_arch="small-cnn", f_width=4, epsilon=EPS, selector_epochs=2)
    fixed, learned = ConfounderGAN(pattern_lr=0.0, **options), ConfounderGAN(pattern_lr=0.05, **options)
    at_start = {}

    def snapshot(method):       # the generator as built, before the GAN game touches it
        def progress(kind, info):
            if info.get("stage") == "training generator":
                at_start[method] = {k: v.clone() for k, v in method.generator.state_dict().items()}
        return progress

    fixed.fit(tiny_set, progress=snapshot(fixed))
    learned.fit(tiny_set, progress=snapshot(learned))
    assert torch.equal(fixed.generator.patterns, at_start[fixed]["patterns"])
    assert not torch.equal(learned.generator.patterns, at_start[learned]["patterns"])
    assert not fixed.generator.patterns.requires_grad          # the selector fit leaves them frozen
    # The selector still learns: its weights moved from their initialisation.
    assert not torch.equal(fixed.generator.head[-1].weight, at_start[fixed]["head.3.weight"])
    with pytest.raises(ConfigurationError, match="pattern_lr"):
        ConfounderGAN(pattern_lr=-0.1)


def test_confoundergan_keeps_the_least_aligned_of_its_pattern_draws(tiny_set):
    options = dict(epochs=0, f_epochs=1, f_arch="small-cnn", f_width=4, width=4, epsilon=EPS, selector_epochs=0,
                   patterns="drawn")
    one, many = (ConfounderGAN(pattern_draws=n, **options).fit(tiny_set) for n in (1, 16))
    drawn = many.fit_record["patterns"]
    assert drawn["draws"] == 16 and drawn["template_match"] <= min(drawn["first_draw_match"], drawn["median_match"])
    assert one.fit_record["patterns"]["template_match"] == one.fit_record["patterns"]["first_draw_match"]
    # What fit recorded is what the kept patterns measure on the images (no GAN epoch moved them).
    assert template_match(many.generator, tiny_set.images, tiny_set.labels) == pytest.approx(drawn["template_match"])
    with pytest.raises(ConfigurationError, match="pattern_draws"):
        ConfounderGAN(pattern_draws=0)


def test_confoundergan_needs_something_to_read_the_noise():
    with pytest.raises(ConfigurationError, match="f_weight and surrogate_weight are both 0"):
        ConfounderGAN(f_weight=0.0, surrogate_weight=0.0)
    with pytest.raises(ConfigurationError, match="surrogate_augment"):
        ConfounderGAN(surrogate_augment=("crop",))
    with pytest.raises(ConfigurationError, match="unknown augmentation"):
        ConfounderGAN(surrogate_weight=1.0, surrogate_augment="crop,bogus")


def test_confoundergan_selector_fit_trains_on_augmented_batches_and_counts_on_the_images(tiny_set):
    from imageprivacy.protections.unlearnable.selector_fit import fit_selector

    class Counting(torch.nn.Module):            # the batches the fit trains on pass through here, flipped
        calls = 0

        def forward(self, x):
            Counting.calls += 1
            return x.flip(-1)

    options = dict(epochs=0, f_epochs=1, f_arch="small-cnn", f_width=4, width=4, epsilon=EPS, selector_epochs=0)
    method = ConfounderGAN(**options).fit(tiny_set)
    record = fit_selector(method.generator, tiny_set.images, tiny_set.labels, epochs=2, lr=3e-3, target=1.1,
                          batch_size=len(tiny_set) // 2, device="cpu", seed=0, progress=lambda *a: None,
                          augment=Counting())
    assert Counting.calls == 4 and len(record["epochs"]) == 2      # 2 batches x 2 epochs, none while counting
    augmented = ConfounderGAN(**{**options, "selector_epochs": 2}, selector_augment="crop,flip").fit(tiny_set)
    assert augmented.config.selector_augment == "crop,flip" and len(augmented.fit_record["selector"]["epochs"]) >= 1
    with pytest.raises(ConfigurationError, match="selector_augment"):
        ConfounderGAN(selector_augment="crop,blur")
