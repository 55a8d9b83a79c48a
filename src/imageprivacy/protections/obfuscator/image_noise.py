"""The noise baseline of DeepObfuscator section 4.3: Gaussian noise on the raw image before the obfuscator.

The paper adds noise "until it becomes just unrecognizable" and never says how that was judged.
Our criterion, measurable and fixed before any attacker is trained: the smallest std on the grid
0.05, 0.10, ..., 2.00 at which the mean per-image MS-SSIM between the noisy and the raw image is at
most `threshold` (default 0.30, the bar the issue sets for DeepObfuscator's reconstructions), on up to
1000 defender images. So the noisy input is, by the same metric, as unrecognizable as DeepObfuscator
must make its reconstructions; what the attackers recover from O(noisy image) then shows what noise
alone leaves. Noisy pixels are clipped to [0, 1]. The noise is drawn afresh for every image and
every query (it is the phone's privacy mechanism, not a training regulariser).
"""
from __future__ import annotations

import torch

from imageprivacy.metrics.multiscale_ssim import MSSSIMParams, per_image_msssim
from imageprivacy.protections.gaussian_noise import GaussianNoise

STD_GRID = tuple(round(0.05 * k, 2) for k in range(1, 41))


class ImageNoise(GaussianNoise):
    """x -> clip(x + std * N(0, 1), 0, 1): the Gaussian noise DPF puts on features, kept a valid image."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).clamp(0.0, 1.0)


@torch.no_grad()
def calibrate_noise_std(images: torch.Tensor, threshold: float, params: MSSSIMParams, seed: int,
                        limit: int = 1000) -> dict:
    """{"std", "ms_ssim", "met", "grid"}: the smallest grid std whose noisy images score <= threshold."""
    x = images[:limit].float() / 255.0
    measured = {}
    for std in STD_GRID:
        noisy = ImageNoise(std, torch.Generator().manual_seed(seed))(x)
        measured[std] = per_image_msssim(noisy, x, params).mean().item()
        if measured[std] <= threshold:
            return {"std": std, "ms_ssim": measured[std], "met": True, "threshold": threshold, "images": len(x),
                    "grid": measured}
    return {"std": STD_GRID[-1], "ms_ssim": measured[STD_GRID[-1]], "met": False, "threshold": threshold,
            "images": len(x), "grid": measured}
