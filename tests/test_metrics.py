"""protection_quality: per-image PSNR (unchanged images apart), SSIM, the largest change in levels."""
import math

import pytest
import torch

from imageprivacy.metrics.image_quality import protection_quality


@pytest.fixture
def images():
    """Mid-range pixels, so an offset of a few levels is never clipped."""
    return torch.randint(20, 200, (6, 1, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def _psnr(levels):
    return 20 * math.log10(255 / levels)             # PSNR of a constant offset, data range 1


def test_identical_images(images):
    q = protection_quality(images, images.clone())
    assert q["psnr_mean_db"] == q["psnr_min_db"] == math.inf
    assert q["unchanged_images"] == q["images"] == 6
    assert q["ssim_mean"] == pytest.approx(1.0, abs=1e-6)
    assert q["linf_max_levels"] == 0


def test_constant_offset_matches_hand_computed_psnr(images):
    q = protection_quality(images, images + 4)
    assert q["psnr_mean_db"] == pytest.approx(_psnr(4), abs=1e-3)       # 36.09 dB
    assert q["psnr_min_db"] == pytest.approx(_psnr(4), abs=1e-3)
    assert q["unchanged_images"] == 0 and q["linf_max_levels"] == 4
    assert 0.99 < q["ssim_mean"] < 1.0


def test_psnr_is_the_mean_of_per_image_psnr(images):
    protected = images.clone()
    protected[0] += 2
    protected[1] += 8
    protected[2, 0, 3, 5] += 7                           # one pixel of one image
    q = protection_quality(images, protected)
    one_pixel = 10 * math.log10(1 / ((7 / 255) ** 2 / 256))
    assert q["psnr_mean_db"] == pytest.approx((_psnr(2) + _psnr(8) + one_pixel) / 3, abs=1e-3)
    assert q["psnr_min_db"] == pytest.approx(_psnr(8), abs=1e-3)
    assert q["unchanged_images"] == 3                    # left out of the mean, counted apart
    assert q["linf_max_levels"] == 8


def test_float_and_uint8_agree_and_batches_do_not_matter(images):
    protected = (images.int() + torch.randint(-5, 6, images.shape)).clamp(0, 255).to(torch.uint8)
    as_uint8 = protection_quality(images, protected)
    as_float = protection_quality(images.float() / 255, protected.float() / 255)
    batched = protection_quality(images, protected, batch_size=4)
    for key in as_uint8:
        assert as_float[key] == pytest.approx(as_uint8[key], rel=1e-5)
        assert batched[key] == pytest.approx(as_uint8[key], rel=1e-5)
    assert as_uint8["linf_max_levels"] == 5


def test_noise_lowers_ssim_more_than_a_shift(images):
    shifted = protection_quality(images, images + 3)["ssim_mean"]
    noisy = (images.int() + 3 * (2 * torch.randint(0, 2, images.shape) - 1)).to(torch.uint8)
    assert protection_quality(images, noisy)["ssim_mean"] < shifted


@pytest.mark.parametrize("size", [(3, 5, 5), (3, 9, 13), (1, 2, 2)])
def test_small_images_get_a_window_that_fits(size):
    x = torch.randint(20, 200, (2, *size), dtype=torch.uint8)
    assert protection_quality(x, x)["ssim_mean"] == pytest.approx(1.0, abs=1e-6)
    assert protection_quality(x, x + 1)["linf_max_levels"] == 1
