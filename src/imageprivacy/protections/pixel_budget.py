"""The L-inf budget on written 8-bit pixels: how many levels epsilon allows, and noise applied within it."""
from __future__ import annotations

import torch

# Said wherever protected images are handed out (`imageprivacy protect`, the web page): JPEG quantises
# away much of a noise of a few levels, and resizing averages it out.
REENCODING_WARNING = ("Note: re-encoding the protected PNGs as JPEG (or resizing them) may weaken the protection; "
                      "share the PNGs as they are.")


def budget_in_levels(epsilon: float) -> int:
    """The L-inf budget in 8-bit levels; floor, so the written pixels never exceed epsilon."""
    return int(epsilon * 255 + 1e-6)


def apply_noise_uint8(images: torch.Tensor, noise: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Add float noise to uint8 images, round, and clip so |out - in| <= epsilon on the 8-bit pixels."""
    e = budget_in_levels(epsilon)
    base = images.to(torch.int16)
    shifted = torch.round(images.float() + noise.float() * 255.0).to(torch.int16)
    out = torch.minimum(torch.maximum(shifted, base - e), base + e)
    return out.clamp(0, 255).to(torch.uint8)
