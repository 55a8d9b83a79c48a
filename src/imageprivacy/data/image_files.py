"""Reading and writing single image files, keeping what the user sees: orientation, mode, alpha, size.

Read policy (`read_image`), by Pillow mode of the file:

- 'L' -> 1 channel; 'LA' -> 1 channel + alpha; '1' (bilevel) -> 'L' (0 or 255).
- 'RGB' -> 3 channels; 'RGBA' -> 3 channels + alpha.
- 'P' (palette) -> 'RGB', or 'RGB' + alpha when the palette has transparency.
- 'I;16*' and 'I' (16-bit grayscale) -> 1 channel scaled to 8 bit (value / 257, rounded): the
  protection budget is defined on 8-bit levels, so the output is an 8-bit grayscale PNG.
- 'F' (float) -> clipped to 0..255 by Pillow; 'CMYK', 'YCbCr', 'LAB', 'HSV', ... -> 'RGB'.
- The EXIF orientation is applied to the pixels, so the output is upright as the user saw it.
- Animated GIF/WebP and multi-page TIFF: only the first frame is read.

`write_png` drops EXIF and other metadata on purpose (GPS position, camera serial numbers: this
package is about privacy) but keeps the ICC colour profile, so colours look the same.
"""
from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image, ImageOps

from imageprivacy.errors import CorruptImageError, InputShapeError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
GRAYSCALE_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_ROTATING_ORIENTATIONS = {5, 6, 7, 8}      # EXIF orientations that swap width and height
# Modes whose ICC profile still describes the pixels we write; a CMYK or LAB profile would not.
_PROFILE_KEEPING_MODES = GRAYSCALE_MODES | {"P", "PA", "RGB", "RGBA", "RGBX", "RGBa"}


@dataclass
class DecodedImage:
    pixels: torch.Tensor              # uint8 (C, H, W), C = 1 (grayscale) or 3 (colour)
    alpha: torch.Tensor | None        # uint8 (H, W), or None when the file has no transparency
    mode: str                         # the Pillow mode of the file, before any conversion
    size: tuple[int, int]             # (width, height) as displayed, i.e. after EXIF orientation
    icc_profile: bytes | None = None  # the colour profile, written back by write_png


def _fail(path, reason: str) -> CorruptImageError:
    error = CorruptImageError(f"cannot read image {path}: {reason}")
    error.path, error.reason = str(path), reason    # so a summary can list the reason alone
    return error


def _reason(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _to_8bit_gray(img: Image.Image) -> np.ndarray:
    if img.mode.startswith("I"):
        # 16-bit data (I;16*, or 'I' as some decoders give it): full range 0..65535 -> 0..255.
        values = np.asarray(img).astype(np.float64).clip(0, 65535)
        return np.round(values / 257.0).astype(np.uint8)
    return np.asarray(img.convert("L"))


def _channels_and_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W, C) uint8 pixels and (H, W) alpha or None, following the policy in the module docstring."""
    mode = img.mode
    if mode == "P":
        has_alpha = "transparency" in img.info or img.palette.mode == "RGBA"
        img, mode = img.convert("RGBA" if has_alpha else "RGB"), ("RGBA" if has_alpha else "RGB")
    elif mode in ("PA", "RGBa"):
        img, mode = img.convert("RGBA"), "RGBA"
    elif mode == "La":
        img, mode = img.convert("LA"), "LA"
    if mode == "LA":
        both = np.asarray(img)
        return both[..., :1], both[..., 1].copy()
    if mode == "RGBA":
        both = np.asarray(img)
        return both[..., :3], both[..., 3].copy()
    if mode in GRAYSCALE_MODES:
        return _to_8bit_gray(img)[..., None], None
    return np.asarray(img.convert("RGB")), None


def read_image(path: str | Path) -> DecodedImage:
    """Decode one image file into uint8 tensors (policy: module docstring).

    Raises CorruptImageError (with the path and the reason) for anything that does not decode:
    a missing or unreadable file, zero bytes, not an image, a truncated file, a decompression bomb.
    """
    try:
        with Image.open(path) as img:
            img.load()                    # decode now: a truncated file fails here, not later
            mode = img.mode
            icc = img.info.get("icc_profile") if mode in _PROFILE_KEEPING_MODES else None
            upright = ImageOps.exif_transpose(img)
            pixels, alpha = _channels_and_alpha(upright)
    except Image.DecompressionBombError as err:
        raise _fail(path, f"decompression bomb refused ({err})") from err
    # Pillow's decoders raise many exception types on malformed files, not only OSError.
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError,
            struct.error, MemoryError) as err:
        raise _fail(path, _reason(err)) from err
    tensor = torch.from_numpy(pixels.transpose(2, 0, 1).copy())   # a writable, contiguous copy
    return DecodedImage(pixels=tensor, alpha=None if alpha is None else torch.from_numpy(alpha),
                        mode=mode, size=(tensor.shape[2], tensor.shape[1]), icc_profile=icc)


def read_size(path: str | Path) -> tuple[int, int]:
    """(width, height) as displayed (EXIF orientation applied), from the header only: cheap."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if img.getexif().get(0x0112) in _ROTATING_ORIENTATIONS:
                width, height = height, width
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        raise _fail(path, _reason(err)) from err
    return width, height


def write_png(path: str | Path, pixels: torch.Tensor, alpha: torch.Tensor | None = None,
              original_mode: str | None = None, icc_profile: bytes | None = None) -> Path:
    """Write a lossless PNG: 1 channel -> 'L' ('LA' with alpha), 3 channels -> 'RGB' ('RGBA').

    `original_mode` (the mode read_image reported), when given, is checked against the channel
    count, so a grayscale original never comes out as colour or the reverse. The write is atomic:
    a temporary file in the same folder, then os.replace, so a crash never leaves a half-written
    PNG that a resumed run would take as done.
    """
    if pixels.dtype != torch.uint8 or pixels.dim() != 3 or pixels.shape[0] not in (1, 3):
        raise InputShapeError(f"pixels must be uint8 (C, H, W) with C = 1 or 3, got "
                              f"{pixels.dtype} {tuple(pixels.shape)}")
    channels, height, width = pixels.shape
    if alpha is not None and (alpha.dtype != torch.uint8 or tuple(alpha.shape) != (height, width)):
        raise InputShapeError(f"alpha must be uint8 ({height}, {width}), got {alpha.dtype} {tuple(alpha.shape)}")
    if original_mode is not None and (original_mode in GRAYSCALE_MODES) != (channels == 1):
        raise InputShapeError(f"{channels} channel(s) cannot be written for an original in mode {original_mode!r}")
    planes = pixels.cpu() if alpha is None else torch.cat([pixels.cpu(), alpha.cpu()[None]])
    array = planes.permute(1, 2, 0).contiguous().numpy()
    mode = {(1, False): "L", (1, True): "LA", (3, False): "RGB", (3, True): "RGBA"}[channels, alpha is not None]
    image = Image.fromarray(array[..., 0] if mode == "L" else array)   # (H,W[,2|3|4]) uint8 -> mode

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden name and no image suffix: iter_image_files never picks up a leftover temporary file.
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            # No fsync (it would cost more than encoding a small PNG): os.replace already guards
            # against a crashed process, and an output emptied by a power cut fails to decode,
            # so a resumed run redoes it.
            image.save(out, format="PNG", **({"icc_profile": icc_profile} if icc_profile else {}))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def iter_image_files(root: str | Path) -> Iterator[Path]:
    """Image files under `root`, recursively, sorted by relative path; hidden files and folders are skipped."""
    root = Path(root)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder, f) for f in files if not f.startswith(".") and is_image_file(Path(f))]
    yield from sorted(found, key=lambda p: p.relative_to(root).parts)
