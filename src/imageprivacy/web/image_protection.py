"""One decoded image protected as `imageprivacy protect` protects it, and checked against the 8-bit budget.

The channel rules are protect_folder.py's (its module docstring): a 1-channel protection protects
each of R, G, B of a colour image as its own grayscale image; a 3-channel protection protects a
grayscale image replicated to RGB and keeps the rounded mean of the three channels, clipped again
to the budget. They are repeated here for one image at a time, without protect_folder's batching
and files, because the server protects images it holds in memory.
"""
from __future__ import annotations

import torch

from imageprivacy.errors import ConfigurationError
from imageprivacy.protections.base import Protection
from imageprivacy.protections.pixel_budget import apply_noise_uint8, budget_in_levels


def budget_levels(protection: Protection) -> int:
    """The most an 8-bit pixel may change: floor(epsilon * 255), or 255 for a method that replaces pixels."""
    return budget_in_levels(protection.epsilon) if protection.bounded else 255


def largest_change(original: torch.Tensor, protected: torch.Tensor) -> int:
    return int((protected.to(torch.int16) - original.to(torch.int16)).abs().max().item())


def protect_pixels(protection: Protection, pixels: torch.Tensor, label: int | None = None) -> torch.Tensor:
    """uint8 (C, H, W) with C = 1 or 3 -> its protected uint8 copy of the same shape, within the budget."""
    if protection.channels not in (1, 3):
        raise ConfigurationError(f"protections of 1 or 3 channels are supported, got {protection.channels}")
    labels = None if label is None else torch.tensor([label])
    if pixels.shape[0] == protection.channels:
        result = protection.protect(pixels[None], labels)[0]
    elif protection.channels == 1:
        parts = protection.protect(pixels[:, None], None if labels is None else labels.expand(pixels.shape[0]))
        result = parts[:, 0]
    else:
        mean = protection.protect(pixels.expand(3, -1, -1)[None], labels)[0].float().mean(0, keepdim=True).round()
        result = (apply_noise_uint8(pixels, (mean - pixels.float()) / 255.0, protection.epsilon)
                  if protection.bounded else mean.to(torch.uint8))
    worst = largest_change(pixels, result)
    if result.shape != pixels.shape or result.dtype != torch.uint8 or worst > budget_levels(protection):
        raise RuntimeError(f"bug: the protected image is {result.dtype} {tuple(result.shape)} and differs by {worst} "
                           f"levels (budget {budget_levels(protection)}) from its {tuple(pixels.shape)} input")
    return result
