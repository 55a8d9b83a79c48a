"""The L-inf budget on written pixels: how many levels epsilon allows, and noise applied within it.

Budgets are fractions of the full range, so a 16-bit image (top level 65535) gets the same budget
as an 8-bit one (top level 255), at its own scale: floor(epsilon * 65535) 16-bit levels, which is at
least 257 times floor(epsilon * 255) and never more than epsilon.
"""
from __future__ import annotations

from typing import Callable

import torch

# Said wherever protected images are handed out (`imageprivacy protect`, the web page): JPEG quantises
# away much of a noise of a few levels, and resizing averages it out.
REENCODING_WARNING = ("Note: re-encoding the protected PNGs as JPEG (or resizing them) may weaken the protection; "
                      "share the PNGs as they are.")

EIGHT_BIT, SIXTEEN_BIT = 255, 65535      # the top level of each depth the package writes


def budget_in_levels(epsilon: float, top: int = EIGHT_BIT) -> int:
    """The L-inf budget in levels of a depth whose top level is `top`; floor, so pixels never exceed epsilon."""
    return int(epsilon * top + 1e-6)


def apply_noise_uint8(images: torch.Tensor, noise: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Add float noise to uint8 images, round, and clip so |out - in| <= epsilon on the 8-bit pixels."""
    e = budget_in_levels(epsilon)
    base = images.to(torch.int16)
    shifted = torch.round(images.float() + noise.float() * 255.0).to(torch.int16)
    out = torch.minimum(torch.maximum(shifted, base - e), base + e)
    return out.clamp(0, 255).to(torch.uint8)


def apply_noise_levels(levels: torch.Tensor, noise: torch.Tensor, epsilon: float | None, top: int) -> torch.Tensor:
    """int32 pixels of 0..top plus float noise (a fraction of the range), rounded, clipped to within
    epsilon (None: unbounded) and to 0..top. float32 holds every 16-bit level exactly."""
    shifted = torch.round(levels.float() + noise.float() * top).to(torch.int32)
    if epsilon is not None:
        e = budget_in_levels(epsilon, top)
        shifted = torch.minimum(torch.maximum(shifted, levels - e), levels + e)
    return shifted.clamp(0, top)


def apply_noise_in_stripes(images: torch.Tensor, noise_rows: Callable[[int, int], torch.Tensor], epsilon: float,
                           stripe_values: int) -> torch.Tensor:
    """apply_noise_uint8 on uint8 (N, C, H, W) images, one stripe of rows at a time.

    `noise_rows(r0, r1)` gives the noise of rows r0..r1 only, so a large photo never exists as float
    (4 bytes a value, and each step of the full-image computation makes another copy). Each stripe
    goes through the very operations of the full computation, so the result is identical.
    """
    out = torch.empty_like(images)
    n, c, height, width = images.shape
    step = max(1, stripe_values // max(1, n * c * width))
    for r0 in range(0, height, step):
        r1 = min(height, r0 + step)
        noise = noise_rows(r0, r1).clamp(-epsilon, epsilon).to(images.device)
        out[:, :, r0:r1] = apply_noise_uint8(images[:, :, r0:r1], noise, epsilon)
    return out
