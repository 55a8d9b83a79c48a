"""What the page shows of one protected image: its PSNR, the noise made visible, small previews.

PSNR is torchmetrics' (as metrics/image_quality.py computes it, on [0, 1] with data_range 1), of
the colour or gray pixels only: the alpha channel is copied unchanged.
"""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image
from torchmetrics.functional.image import peak_signal_noise_ratio

# Previews are for the eye: a 24 MP photo shown in a 300 px column needs no more than this many
# pixels on its long side (the download is always the full-size PNG).
PREVIEW_SIDE = 640


def psnr_db(original: torch.Tensor, protected: torch.Tensor) -> float | None:
    """PSNR of one uint8 (C, H, W) image in dB; None when the protection left it unchanged (infinite)."""
    value = peak_signal_noise_ratio(protected[None].float() / 255.0, original[None].float() / 255.0,
                                    data_range=1.0).item()
    return None if value == float("inf") else value


def amplified_noise(original: torch.Tensor, protected: torch.Tensor, budget: int) -> torch.Tensor:
    """The change as an image: mid-gray for none, black and white for the full budget (-budget, +budget)."""
    change = protected.float() - original.float()
    return (128.0 + change * (127.0 / max(budget, 1))).round().clamp(0, 255).to(torch.uint8)


def preview_png(pixels: torch.Tensor, alpha: torch.Tensor | None = None, sharp: bool = False) -> bytes:
    """uint8 (C, H, W) (+ alpha) as a PNG at most PREVIEW_SIDE on its long side.

    `sharp` shrinks by nearest neighbour, so the amplified noise keeps its blocks instead of being
    averaged to gray.
    """
    planes = pixels if alpha is None else torch.cat([pixels, alpha[None]])
    array = np.ascontiguousarray(planes.permute(1, 2, 0).numpy())
    image = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.NEAREST if sharp else Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
