"""Image-quality metrics of a protection, from torchmetrics, on [0, 1] images with data_range=1.0.

PSNR is the mean of per-image PSNR (not the PSNR of the pooled MSE), docs/background.md section 3. An image
that the protection left identical has infinite PSNR: it is counted apart and left out of the mean.
"""
from __future__ import annotations

import torch

from imageprivacy.errors import InputShapeError
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure


def _as_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 255.0 if images.dtype == torch.uint8 else images.float()


@torch.no_grad()
def protection_quality(original: torch.Tensor, protected: torch.Tensor, batch_size: int = 1000) -> dict:
    """Mean per-image PSNR (dB), mean SSIM, and the largest change in 8-bit levels."""
    if len(original) == 0 or original.shape != protected.shape:
        raise InputShapeError(f"protection_quality needs two non-empty batches of one shape, got "
                              f"{tuple(original.shape)} and {tuple(protected.shape)}")
    psnrs, ssims, linf = [], [], 0.0
    for start in range(0, len(original), batch_size):
        a = _as_float(original[start:start + batch_size])
        b = _as_float(protected[start:start + batch_size])
        psnrs.append(peak_signal_noise_ratio(b, a, data_range=1.0, reduction="none", dim=(1, 2, 3)))
        # An 11-pixel Gaussian window fits 28x28; smaller images get the largest odd window that fits.
        k = min(11, (min(a.shape[2:]) - 1) | 1)
        ssims.append(structural_similarity_index_measure(b, a, data_range=1.0, kernel_size=k,
                                                         sigma=1.5 * k / 11, reduction="none"))
        linf = max(linf, (a - b).abs().max().item() * 255.0)
    psnr = torch.cat(psnrs)
    finite = torch.isfinite(psnr)
    return {
        "psnr_mean_db": psnr[finite].mean().item() if finite.any() else float("inf"),
        "psnr_min_db": psnr[finite].min().item() if finite.any() else float("inf"),
        "unchanged_images": int((~finite).sum()),
        "ssim_mean": torch.cat(ssims).mean().item(),
        "linf_max_levels": round(linf),
        "images": len(original),
    }
