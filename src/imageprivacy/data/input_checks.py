"""Input checks for the public API: shapes and ranges, with messages that say what to fix."""
from __future__ import annotations

import torch

from imageprivacy.errors import InputRangeError, InputShapeError


def check_images(images: torch.Tensor, channels: int | None = None, name: str = "images",
                 allow_uint8: bool = False) -> None:
    """Raise unless `images` is a finite float tensor in [0, 1] (or, with allow_uint8, any uint8) of shape
    (N, C, H, W) with no empty dimension."""
    if not isinstance(images, torch.Tensor):
        raise InputShapeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4:
        raise InputShapeError(f"{name} must have shape (N, C, H, W), got {tuple(images.shape)}")
    if 0 in images.shape:
        raise InputShapeError(f"{name} must have no empty dimension, got shape {tuple(images.shape)}")
    if channels is not None and images.shape[1] != channels:
        raise InputShapeError(f"{name} must have {channels} channel(s), got {images.shape[1]} "
                              f"(shape {tuple(images.shape)})")
    if allow_uint8 and images.dtype == torch.uint8:
        return                                   # every uint8 value is a valid 8-bit pixel
    if not images.is_floating_point():
        raise InputRangeError(f"{name} must be a float tensor in [0, 1], got dtype {images.dtype}; "
                              "divide uint8 images by 255")
    if not torch.isfinite(images).all():
        raise InputRangeError(f"{name} hold NaN or infinite values: pixels must be finite numbers in [0, 1]")
    if images.min() < 0 or images.max() > 1:
        raise InputRangeError(f"{name} must lie in [0, 1], got values in "
                              f"[{images.min().item():.3g}, {images.max().item():.3g}]")


def check_labels(labels: torch.Tensor, n: int, num_classes: int | None = None) -> None:
    """Raise unless `labels` is an integer vector of length n with values in [0, num_classes)."""
    if labels.dim() != 1 or labels.shape[0] != n:
        raise InputShapeError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
    if labels.is_floating_point():
        raise InputRangeError(f"labels must be integers, got dtype {labels.dtype}")
    if num_classes is not None and n and (labels.min() < 0 or labels.max() >= num_classes):
        raise InputRangeError(f"labels must lie in [0, {num_classes}), got "
                              f"[{labels.min().item()}, {labels.max().item()}]")
