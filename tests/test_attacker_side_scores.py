"""Attacker-side reconstruction scores (best of raw, negative, affine remap fitted on public pairs) and the
content-free references they are read against."""
import pytest
import torch

from imageprivacy.errors import InputShapeError
from imageprivacy.metrics.attacker_side import IntensityRemap, attacker_side_scores, contrast_stretch, image_scores
from imageprivacy.metrics.content_free import (BLANK, CONSTANT, PUBLIC_MEAN, best_reference, content_free_references,
                                               label_mean_images)


@pytest.fixture
def images():
    """Blurry blobs on a dark ground in [0, 1], 16x16, so SSIM and MS-SSIM have structure to see."""
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(12, 1, 16, 16)
    for i in range(12):
        r, c = torch.randint(2, 10, (2,), generator=gen).tolist()
        x[i, 0, r:r + 5, c:c + 5] = 0.6 + 0.4 * torch.rand(1, generator=gen).item()
    return (x + 0.05 * torch.rand(x.shape, generator=gen)).clamp(0, 1)


def test_remap_recovers_an_exact_affine_map(images):
    remap = IntensityRemap.fit(0.5 * images + 0.2, images)
    assert remap.scale == pytest.approx(2.0, abs=1e-6) and remap.offset == pytest.approx(-0.4, abs=1e-6)
    assert torch.allclose(remap(0.5 * images + 0.2), images, atol=1e-5)
    flat = IntensityRemap.fit(torch.full_like(images, 0.3), images)      # a constant output: the targets' mean
    assert flat.scale == 0.0 and flat.offset == pytest.approx(images.mean().item(), abs=1e-6)
    with pytest.raises(InputShapeError):
        IntensityRemap.fit(images, images[:3])


def test_an_inverted_reconstruction_scores_as_the_image(images):
    scores = attacker_side_scores(1.0 - images, images, IntensityRemap())
    assert scores["raw"]["ssim"] < 0.2 and scores["best"]["ssim"] == pytest.approx(1.0, abs=1e-4)
    assert set(scores["best_variant"].values()) == {"negative"} and scores["best"]["l1"] == pytest.approx(0, abs=1e-6)
    assert scores["best"]["ms_ssim"] == pytest.approx(1.0, abs=1e-4) and scores["images"] == 12


def test_the_remap_is_what_the_attacker_fitted_on_public_pairs(images):
    public, private = images[:6], images[6:]
    washed = lambda x: 0.25 * x + 0.5               # noqa: E731 - the attacker's reconstructor dims everything
    remap = IntensityRemap.fit(washed(public), public)
    scores = attacker_side_scores(washed(private), private, remap)
    assert scores["best_variant"]["l1"] == "affine" and scores["best"]["l1"] < 1e-5 < scores["raw"]["l1"]
    assert scores["best"]["psnr_db"] >= scores["raw"]["psnr_db"] and scores["remap"]["scale"] == pytest.approx(4.0)
    # a remap fitted on pairs that do not hold for the scored images cannot help them: raw stays the best L1
    wrong = attacker_side_scores(private, private, IntensityRemap(-1.0, 1.0))
    assert wrong["best_variant"]["l1"] == "raw" and wrong["best"]["ssim"] == pytest.approx(1.0, abs=1e-4)


def test_faint_outputs_of_different_brightness_are_stretched_image_by_image(images):
    # each reconstruction dimmed by its own factor: no single remap undoes that, each image's own stretch does
    dim = torch.linspace(0.05, 0.4, len(images)).view(-1, 1, 1, 1)
    scores = attacker_side_scores(dim * images, images, IntensityRemap.fit(dim * images, images))
    assert scores["best_variant"]["ssim"] == "stretch" and scores["stretch"]["ssim"] > scores["affine"]["ssim"] + 0.1
    stretched = contrast_stretch(dim * images)
    assert stretched.shape == images.shape and stretched.amax((1, 2, 3)).min() == pytest.approx(1.0)
    flat = torch.full((2, 1, 4, 4), 0.3)
    assert torch.equal(contrast_stretch(flat), flat)                  # nothing to stretch: left as it is


def test_best_is_never_worse_than_raw(images):
    noisy = (images + 0.3 * torch.randn(images.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    scores = attacker_side_scores(noisy, images, IntensityRemap.fit(noisy[:6], images[:6]))
    for metric in ("ssim", "ms_ssim", "psnr_db"):
        assert scores["best"][metric] >= scores["raw"][metric]
    assert scores["best"]["l1"] <= scores["raw"]["l1"]


def test_small_images_have_no_msssim():
    x = torch.rand(3, 1, 8, 8)
    assert image_scores(x, x)["ms_ssim"] is None and image_scores(x, x)["ssim"] == pytest.approx(1.0, abs=1e-5)


def test_content_free_references(images):
    labels = torch.arange(12) % 3
    means = label_mean_images((images * 255).round().to(torch.uint8), labels, 4)
    assert means.shape == (4, 1, 16, 16) and torch.allclose(means[3], means[:3].mean(0), atol=0.01)
    refs = content_free_references(images, images, label_means=means, target_labels=labels,
                                   label_name="mean image of the right group")
    assert set(refs) == {BLANK, CONSTANT, PUBLIC_MEAN, "mean image of the right group"}
    assert refs[BLANK]["l1"] == pytest.approx(images.mean().item(), abs=1e-5)
    # the best constant is at least as close as the all-black one under every metric
    assert refs[CONSTANT]["ssim"] >= refs[BLANK]["ssim"] and refs[CONSTANT]["l1"] <= refs[BLANK]["l1"]
    # PSNR's best constant is the grey nearest the mean pixel; L1's the median, black on this dark ground
    assert refs[CONSTANT]["levels"]["psnr_db"] == pytest.approx(images.mean().item(), abs=1 / 32)
    assert refs[CONSTANT]["levels"]["l1"] == 0.0 and refs[CONSTANT]["psnr_db"] > refs[BLANK]["psnr_db"]
    name, value = best_reference(refs, "l1")
    assert value == min(r["l1"] for r in refs.values()) and name in refs
    with pytest.raises(InputShapeError):
        content_free_references(images, images, label_means=means)
