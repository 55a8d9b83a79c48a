"""The baselines ConfounderGAN is compared with: EMN (both modes), class-wise patches, checkpoints."""
import json

import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_OPTIONS
from safetensors import safe_open

from imageprivacy.errors import InputShapeError, MissingLabelsError, NotFittedError
from imageprivacy.protections import (PROTECTIONS, ClassWiseNoise, ClassWisePatches, ErrorMinimizingNoise,
                                      RandomNoise, load_protection, save_protection)
from imageprivacy.protections.pixel_budget import budget_in_levels
from imageprivacy.protections.unlearnable.classwise_patches import patch_side

EPS = 0.05          # 12 levels on the written pixels
# conftest's TINY_OPTIONS make both modes cheap; class-wise takes its 3 descent steps per batch from
# there too (its default is 1) so that its noise grows past a level within the single batch per
# round a 64-image set gives.
EMN = {"samplewise": TINY_OPTIONS["emn"], "classwise": {**TINY_OPTIONS["emn"], "mode": "classwise"}}


@pytest.fixture(scope="module")
def emn(fit_protection):
    return lambda mode, rgb=False: fit_protection("emn", rgb=rgb, epsilon=EPS, **EMN[mode])


def test_registered_and_bounded_flags():
    assert {"emn", "cwp", "random", "classwise"} <= set(PROTECTIONS)
    assert [n for n, cls in PROTECTIONS.items() if not cls.bounded] == ["cwp"]
    assert ErrorMinimizingNoise.needs_labels_to_protect and ClassWisePatches.needs_labels_to_protect


@pytest.mark.parametrize("stop", [None, 1.01], ids=["default-stop", "unreachable-stop"])
@pytest.mark.parametrize("mode", ["samplewise", "classwise"])
def test_emn_stops_at_accuracy_or_max_rounds(mode, stop, tiny_set):
    events = []
    method = ErrorMinimizingNoise(epsilon=EPS, stop_accuracy=stop, **EMN[mode])
    record = method.fit(tiny_set, progress=lambda e, v: events.append(v)).fit_record
    assert 1 <= record["rounds"] <= 2
    assert record["reached_stop"] == (record["train_acc"] >= method.stop_accuracy)
    assert record["reached_stop"] or record["rounds"] == 2
    if stop is not None:                # above 1 it cannot be reached: all max_rounds run
        assert record["rounds"] == 2 and not record["reached_stop"]
    assert [v["epoch"] for v in events] == list(range(1, record["rounds"] + 1))
    assert events[-1]["epochs"] == 2 and events[-1]["train_acc"] == record["train_acc"]


def test_emn_defaults_follow_the_official_code():
    sw, cw = ErrorMinimizingNoise(), ErrorMinimizingNoise(mode="classwise")
    assert (sw.steps, sw.stop_accuracy, cw.steps, cw.stop_accuracy) == (20, 0.99, 1, 0.9)
    assert sw.step_size == pytest.approx(0.8 / 255) and sw.epsilon == pytest.approx(8 / 255)
    assert (sw.train_steps, sw.fit_batch_size, sw.surrogate_width) == (10, 128, 16)
    with pytest.raises(ValueError, match="mode"):
        ErrorMinimizingNoise(mode="pixelwise")


@pytest.mark.parametrize("rgb", [False, True], ids=["gray", "rgb"])
@pytest.mark.parametrize("mode", ["samplewise", "classwise"])
def test_emn_written_pixels_within_budget(mode, rgb, emn, tiny_set, tiny_rgb_set):
    data = tiny_rgb_set if rgb else tiny_set
    method = emn(mode, rgb)
    fitted = method.fitted_protection()
    assert fitted.images.dtype == torch.uint8 and torch.equal(fitted.labels, data.labels)
    assert fitted.class_names == data.class_names
    for out in (fitted.images, method.protect(data.images, data.labels)):
        change = (out.int() - data.images.int()).abs()
        assert 0 < change.max() <= budget_in_levels(EPS)


def test_emn_classwise_noise_is_one_pattern_per_class(emn, tiny_set):
    method = emn("classwise")
    assert method.class_noise.shape == (4, 1, 16, 16)
    assert method.class_noise.abs().max() <= EPS + 1e-7
    noise = method.fitted_protection().images.int() - tiny_set.images.int()
    interior = (tiny_set.images >= 12) & (tiny_set.images <= 243)        # where +-12 is never clipped
    for k in range(4):
        members = (tiny_set.labels == k).nonzero().flatten()
        both = interior[members[0]] & interior[members[1]]
        assert torch.equal(noise[members[0]][both], noise[members[1]][both])
    assert not torch.equal(method.class_noise[0], method.class_noise[1])
    with pytest.raises(InputShapeError, match="fitted on"):
        method.protect(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), torch.tensor([0, 1]))


def test_emn_samplewise_protect_lowers_surrogate_loss(emn, tiny_test_set):
    method = emn("samplewise")
    x, y = tiny_test_set.float(), tiny_test_set.labels
    protected = method.protect(x, y)
    assert (protected - x).abs().max() <= EPS + 1e-6
    with torch.no_grad():
        clean_loss = F.cross_entropy(method.surrogate(x), y)
        protected_loss = F.cross_entropy(method.surrogate(protected), y)
    assert protected_loss < clean_loss
    assert not any(p.requires_grad for p in method.surrogate.parameters())


@pytest.mark.parametrize("mode", ["samplewise", "classwise", "cwp"])
def test_missing_labels(mode, emn, fit_protection, tiny_set):
    method = fit_protection("cwp") if mode == "cwp" else emn(mode)
    with pytest.raises(MissingLabelsError):
        method.protect(tiny_set.images[:4])


def test_cwp_replaces_only_the_lower_right_square(fit_protection, tiny_rgb_set):
    data = tiny_rgb_set
    method = fit_protection("cwp", rgb=True)
    side = patch_side(16, 36 / 224)
    assert side == 3 and method.patches.shape == (3, 3, side, side)
    out = method.protect(data.images, data.labels)
    corner = torch.zeros(16, 16, dtype=torch.bool)
    corner[-side:, -side:] = True
    assert torch.equal(out[:, :, ~corner], data.images[:, :, ~corner])
    patch = out[:, :, -side:, -side:]
    assert set(patch.unique().tolist()) <= {0, 255}
    for k in range(3):
        assert torch.equal(patch[data.labels == k], (method.patches[k] * 255).to(torch.uint8).expand_as(
            patch[data.labels == k]))
    assert len({method.patches[k].flatten().tolist().__repr__() for k in range(3)}) == 3
    out_f = method.protect(data.float(), data.labels)
    assert torch.allclose(out_f, out.float() / 255, atol=1e-6)
    with pytest.raises(InputShapeError, match="fitted on"):
        method.protect(torch.zeros(2, 3, 32, 32, dtype=torch.uint8), torch.tensor([0, 1]))


def test_patch_side_scales_with_the_image():
    assert [patch_side(s, 36 / 224) for s in (224, 32, 28, 16, 4, 2)] == [36, 5, 5, 3, 1, 1]
    with pytest.raises(ValueError, match="patch_fraction"):
        ClassWisePatches(patch_fraction=0)


def _fresh_or_cached(case, emn, fit_protection, tiny_set):
    if case == "random":         # a fresh fit: the shared one's random stream has moved on
        return RandomNoise(epsilon=EPS, seed=4).fit(tiny_set)
    if case == "classwise":
        return ClassWiseNoise(epsilon=EPS, block=2, seed=4).fit(tiny_set)
    if case == "cwp":
        return fit_protection("cwp")
    return emn(case.removeprefix("emn-"))


@pytest.mark.parametrize("case", ["random", "classwise", "cwp", "emn-samplewise", "emn-classwise"])
def test_checkpoint_roundtrip(case, emn, fit_protection, tiny_set, tiny_test_set, tmp_path):
    original = _fresh_or_cached(case, emn, fit_protection, tiny_set)
    path = save_protection(original, tmp_path / f"{case}.safetensors")
    loaded = load_protection(path)
    assert type(loaded) is type(original) and loaded.fitted and repr(loaded) == repr(original)
    assert loaded.class_names == tiny_set.class_names and loaded.channels == 1
    images, labels = tiny_test_set.images, tiny_test_set.labels
    assert torch.equal(loaded.protect(images, labels), original.protect(images, labels))
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata()
    assert meta["kind"] == "protection"              # the one format of every saved model (nets/weights_file.py)
    config = json.loads(meta["config"])
    assert config["method"] == original.name and config["class_names"] == tiny_set.class_names
    assert config["options"]["epsilon"] == original.epsilon
    if case.startswith("emn"):
        assert loaded.fit_record == original.fit_record and loaded.fit_record["rounds"] >= 1
        assert config["options"] == original._config()
        with pytest.raises(NotFittedError, match="fitted_protection"):
            loaded.fitted_protection()


def test_experiments_take_emns_fitted_noise_for_the_set_it_was_fitted_on(tiny_set):
    """The demo, bench and sweep protect EMN's own training set with the bi-level fit's noise, as the paper
    (and the suite) do, not with a second descent from zero against the final surrogate."""
    from imageprivacy.experiments.unlearnable.protection_factory import fit_and_protect
    method, protected, _ = fit_and_protect("emn", tiny_set, EPS, **EMN["samplewise"])
    assert torch.equal(protected.images, method.fitted_protection().images)
    assert not torch.equal(protected.images, method.protect_set(tiny_set).images)
    gan, by_generator, _ = fit_and_protect("confoundergan", tiny_set, EPS, **TINY_OPTIONS["confoundergan"])
    assert torch.equal(by_generator.images, gan.protect_set(tiny_set).images)
