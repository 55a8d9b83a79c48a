"""Bringing a photo to a network's input size: centre crop to the target's aspect ratio, then resize.

Cropping before resizing keeps shapes undistorted (CelebA's aligned faces are 178x218 and centred,
so a 64x64 input keeps the face and drops some hair and neck). Used by the CelebA loader and by
`obfuscator encode`, so a phone's image is prepared exactly as the training images were.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from imageprivacy.errors import InputShapeError


def centre_crop(pixels: torch.Tensor, aspect: float) -> torch.Tensor:
    """The largest centred (C, h, w) window of `pixels` with w / h == aspect (rounded to whole pixels)."""
    _, h, w = pixels.shape
    if w / h > aspect:
        new_w = max(1, round(h * aspect))
        left = (w - new_w) // 2
        return pixels[:, :, left:left + new_w]
    new_h = max(1, round(w / aspect))
    top = (h - new_h) // 2
    return pixels[:, top:top + new_h, :]


def fit_pixels(pixels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(C, H, W) uint8 -> (C, size[0], size[1]): centre crop to the aspect ratio, Pillow bicubic resize."""
    height, width = int(size[0]), int(size[1])
    if pixels.dtype != torch.uint8 or pixels.dim() != 3 or height < 1 or width < 1:
        raise InputShapeError(f"fit_pixels needs uint8 (C, H, W) pixels and a positive size, got "
                              f"{pixels.dtype} {tuple(pixels.shape)} and {size}")
    if tuple(pixels.shape[1:]) == (height, width):
        return pixels
    cropped = centre_crop(pixels, width / height)
    array = cropped.permute(1, 2, 0).numpy()
    image = Image.fromarray(np.ascontiguousarray(array[..., 0] if cropped.shape[0] == 1 else array))
    resized = np.asarray(image.resize((width, height), Image.Resampling.BICUBIC))
    return torch.from_numpy(resized.reshape(height, width, -1).transpose(2, 0, 1).copy())
