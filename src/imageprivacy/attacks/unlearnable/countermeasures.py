"""The unauthorized trainer's counter-measures to a protection: what they do to downloaded images before training.

The literature calls them defences (against availability poisoning), hence DEFENCES and `--defence`.

Each defence maps an ImageSet to an ImageSet: uint8 pixels in, uint8 pixels out, same shape,
labels and class names kept. Following the protocol of ISS (Liu et al. 2023, "Image Shortcut
Squeezing: Countering Perturbative Availability Poisons with Compression") and APBench (Qin et al.
2023, "APBench: A Unified Benchmark for Availability Poisoning Attacks and Defenses"), a defence is
applied to the (protected) *training* set only, once, before training; the test set stays clean,
since the trainer wants a model that works on ordinary images.

- "grayscale": ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B), written to all 3 channels so the
  victim's architecture is unchanged; a 1-channel set is returned unchanged;
- "jpeg": JPEG re-encoding in memory with PIL, per image, `quality` 10 (the JPEG-10 of ISS's results);
- "median-blur": kornia median filter, `kernel_size` 3 (3x3), reflect border;
- "bit-depth": bit-depth reduction to `bits` 2 bits per channel (APBench's BDR): 2**bits levels
  spread over 0..255, e.g. {0, 85, 170, 255} for 2 bits;
- "none": the identity, so a defence can always be named in a sweep.
"""
from __future__ import annotations

import inspect
import io

import numpy as np
import torch
from kornia.filters import median_blur
from PIL import Image

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import ConfigurationError, InputShapeError

_CHUNK = 1024        # images per chunk where a float copy is made: bounds memory on 50k-image sets


def grayscale(data: ImageSet) -> ImageSet:
    if data.channels == 1:
        return data
    if data.channels != 3:
        raise InputShapeError(f"grayscale needs 1- or 3-channel images, got {data.channels} channels")
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    out = torch.empty_like(data.images)
    for s in range(0, len(data), _CHUNK):
        luma = (data.images[s:s + _CHUNK].float() * weights).sum(1, keepdim=True)
        out[s:s + _CHUNK] = luma.round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1)
    return data.with_images(out, f"{data.name}+grayscale")


def jpeg(data: ImageSet, quality: int = 10) -> ImageSet:
    if not 1 <= int(quality) <= 95:
        raise ConfigurationError(f"JPEG quality must be in 1..95 (PIL's useful range), got {quality}")
    if data.channels not in (1, 3):
        raise InputShapeError(f"jpeg needs 1- or 3-channel images, got {data.channels} channels")
    out = torch.empty_like(data.images)
    for i, pixels in enumerate(data.images):
        array = pixels.permute(1, 2, 0).numpy()
        image = Image.fromarray(array[..., 0] if data.channels == 1 else np.ascontiguousarray(array))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(quality))   # PIL defaults: 4:2:0 chroma subsampling
        decoded = np.asarray(Image.open(buffer).convert("L" if data.channels == 1 else "RGB"))
        out[i] = torch.from_numpy(decoded.reshape(*decoded.shape[:2], -1).copy()).permute(2, 0, 1)
    return data.with_images(out, f"{data.name}+jpeg{int(quality)}")


def median_filter(data: ImageSet, kernel_size: int = 3) -> ImageSet:
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ConfigurationError(f"median kernel_size must be odd and >= 1, got {kernel_size}")
    out = torch.empty_like(data.images)
    for s in range(0, len(data), _CHUNK):
        # The median of an odd number of integers is one of them: exact on 0..255 floats.
        out[s:s + _CHUNK] = median_blur(data.images[s:s + _CHUNK].float(), kernel_size).to(torch.uint8)
    return data.with_images(out, f"{data.name}+median{kernel_size}")


def bit_depth(data: ImageSet, bits: int = 2) -> ImageSet:
    if not 1 <= int(bits) <= 8:
        raise ConfigurationError(f"bits must be in 1..8, got {bits}")
    levels = 2 ** int(bits) - 1
    out = torch.empty_like(data.images)
    for s in range(0, len(data), _CHUNK):
        # round(x * levels) / levels on [0, 1] pixels, as in APBench, then back to 0..255.
        quantised = (data.images[s:s + _CHUNK].float() / 255.0 * levels).round() / levels
        out[s:s + _CHUNK] = (quantised * 255.0).round().to(torch.uint8)
    return data.with_images(out, f"{data.name}+bits{int(bits)}")


def no_defence(data: ImageSet) -> ImageSet:
    return data


DEFENCES = {
    "none": no_defence,
    "grayscale": grayscale,
    "jpeg": jpeg,
    "median-blur": median_filter,
    "bit-depth": bit_depth,
}


def apply_defence(name: str, data: ImageSet, **options) -> ImageSet:
    """`data` after the named defence; options are that defence's keywords (quality, kernel_size, bits)."""
    if name not in DEFENCES:
        raise ConfigurationError(f"unknown defence {name!r}; known: {', '.join(sorted(DEFENCES))}")
    fn = DEFENCES[name]
    accepted = list(inspect.signature(fn).parameters)[1:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigurationError(f"defence {name!r} takes option(s) {accepted or 'none'}, not {unknown}")
    return fn(data, **options)
