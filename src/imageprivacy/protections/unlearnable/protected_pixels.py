"""From a decoded file to what the protection sees, and from its answer back to the pixels that are written.

Channels. When an image's channel count differs from `protection.channels`:
- 1-channel protection, colour image: each of R, G, B is protected as its own grayscale image.
- 3-channel protection, grayscale image: the image is replicated to 3 channels and protected; the
  output is the rounded mean of the 3 protected channels, clipped again to the budget.

16-bit grayscale. The protection sees the image as float in [0, 1] (value / 65535) and its change is
applied at 16-bit scale: rounded, clipped to floor(epsilon * 65535) levels and to 0..65535
(pixel_budget.py). Scaling to 8 bits first would throw away the low 8 bits of every pixel of the
user's photo; the budget is the same fraction of the range either way.

Transparency. An alpha channel is written back unchanged. A tRNS colour (one colour of an L, RGB or
16-bit image is transparent) stays exact: transparent pixels keep their value, and an opaque pixel
that the noise would turn into the transparent colour is moved one level back towards its original
(so it stays opaque and within the budget).
"""
from __future__ import annotations

import torch

from imageprivacy.data.image_files import DecodedImage
from imageprivacy.protections.pixel_budget import (EIGHT_BIT, SIXTEEN_BIT, apply_noise_levels, apply_noise_uint8,
                                                   budget_in_levels)

CHECK_STRIPE_VALUES = 1 << 22    # values compared at once by check_budget: bounded memory on large photos


def split(image: DecodedImage, channels: int) -> list[torch.Tensor]:
    """The (C, H, W) inputs of the protection for one image (see the module docstring)."""
    pixels = image.pixels.float() / SIXTEEN_BIT if image.bit_depth == 16 else image.pixels
    if pixels.shape[0] == channels:
        return [pixels]
    if channels == 1:
        return [pixels[i:i + 1] for i in range(pixels.shape[0])]   # each colour channel as a gray image
    return [pixels.expand(3, -1, -1)]                               # gray replicated to RGB


def merge(image: DecodedImage, parts: list[torch.Tensor], epsilon: float, bounded: bool) -> torch.Tensor:
    """The pixels to write, in the image's own depth, from the protected parts."""
    original = image.pixels
    if image.bit_depth == 16:
        protected = parts[0] if parts[0].shape[0] == 1 else parts[0].mean(dim=0, keepdim=True)
        noise = protected - original.float() / SIXTEEN_BIT
        return apply_noise_levels(original, noise, epsilon if bounded else None, SIXTEEN_BIT)
    if len(parts) > 1:
        return torch.cat(parts)
    if parts[0].shape[0] == original.shape[0]:
        return parts[0]
    mean = parts[0].float().mean(dim=0, keepdim=True).round()      # 3-channel protection, gray image
    if not bounded:
        return mean.to(torch.uint8)
    return apply_noise_uint8(original, (mean - original.float()) / 255.0, epsilon)


def keep_transparent_color(original: torch.Tensor, result: torch.Tensor, key: tuple[int, ...]) -> torch.Tensor:
    """`result` with the tRNS colour `key` meaning what it meant in `original` (module docstring)."""
    color = torch.tensor(key, dtype=result.dtype).view(-1, 1, 1)
    transparent = (original == color).all(dim=0)
    result = torch.where(transparent, original, result)
    rows, cols = ((result == color).all(dim=0) & ~transparent).nonzero(as_tuple=True)
    if len(rows):
        # Some channel of such a pixel differs from the key in the original: move that one back by one level.
        channel = (original[:, rows, cols] != color[:, :, 0]).int().argmax(dim=0)
        before = original[channel, rows, cols].to(torch.int32)
        now = result[channel, rows, cols].to(torch.int32)
        result[channel, rows, cols] = (now + torch.sign(before - now)).to(result.dtype)
    return result


def budget_limit(image: DecodedImage, epsilon: float, bounded: bool) -> int:
    """The largest change allowed per value: the budget at the image's depth; the whole range when unbounded."""
    top = SIXTEEN_BIT if image.bit_depth == 16 else EIGHT_BIT
    return budget_in_levels(epsilon, top) if bounded and epsilon < 1.0 else top


def check_budget(original: torch.Tensor, protected: torch.Tensor, limit: int, rel: str) -> None:
    """RuntimeError (a bug, never a user's mistake) unless `protected` has the type and shape of `original`
    and no value changed by more than `limit`; compared a stripe of rows at a time."""
    worst = 0
    if protected.shape == original.shape and protected.dtype == original.dtype and original.numel():
        step = max(1, CHECK_STRIPE_VALUES // (original.shape[0] * original.shape[2]))
        for r0 in range(0, original.shape[1], step):
            change = protected[:, r0:r0 + step].to(torch.int32) - original[:, r0:r0 + step].to(torch.int32)
            worst = max(worst, int(change.abs().max()))
    if protected.shape != original.shape or protected.dtype != original.dtype or worst > limit:
        raise RuntimeError(f"bug: protected {rel} is {protected.dtype} {tuple(protected.shape)} and differs by "
                           f"{worst} levels (budget {limit}) from its {original.dtype} {tuple(original.shape)} "
                           "input; not written")
