"""One decoded image protected as `imageprivacy protect` protects it, and checked against the budget.

The channel, depth and transparency rules are protected_pixels.py's (`split`, `merge`,
`keep_transparent_color`, `check_budget`), the ones protect_folder.py applies; here they run on one
image at a time, without protect_folder's batching and files, because the server protects images it
holds in memory. The page works in 8-bit levels: uploads are decoded to 8 bits.
"""
from __future__ import annotations

import torch

from imageprivacy.data.image_files import DecodedImage
from imageprivacy.errors import ConfigurationError
from imageprivacy.protections.base import Protection
from imageprivacy.protections.pixel_budget import budget_in_levels
from imageprivacy.protections.unlearnable.protected_pixels import (budget_limit, check_budget, keep_transparent_color,
                                                                   merge, split)


def budget_levels(protection: Protection) -> int:
    """The most an 8-bit pixel may change: floor(epsilon * 255), or 255 for a method that replaces pixels."""
    return budget_in_levels(protection.epsilon) if protection.bounded else 255


def largest_change(original: torch.Tensor, protected: torch.Tensor) -> int:
    return int((protected.to(torch.int16) - original.to(torch.int16)).abs().max().item())


def protect_pixels(protection: Protection, image: DecodedImage, label: int | None = None,
                   name: str = "the image") -> torch.Tensor:
    """The protected copy of `image`'s pixels (same shape and dtype), within the budget, tRNS colour kept."""
    if protection.channels not in (1, 3):
        raise ConfigurationError(f"protections of 1 or 3 channels are supported, got {protection.channels}")
    labels = None if label is None else torch.tensor([label])
    parts = [protection.protect(part[None], labels)[0] for part in split(image, protection.channels)]
    result = merge(image, parts, protection.epsilon, protection.bounded)
    if image.transparent_color is not None:
        result = keep_transparent_color(image.pixels, result, image.transparent_color)
    check_budget(image.pixels, result, budget_limit(image, protection.epsilon, protection.bounded), name)
    return result
