"""Reading and writing single image files, keeping what the user sees: orientation, mode, alpha, size.

Read policy (`read_image`): the conversion of each Pillow mode is in image_modes.py; which suffixes
are read is in image_formats.py. Besides:

- The file is opened without blocking and read only when it is a regular file, so a FIFO named
  `p.png` is refused instead of hanging the run; its bytes are read once and decoded from memory,
  so a caller can hash exactly what was decoded (the protect manifest does).
- The EXIF orientation is applied to the pixels, so the output is upright as the user saw it.
- Animated GIF/WebP/PNG and multi-page TIFF: only the first frame is read; `frames` says how many
  there are, so a caller can say the others were not protected.

Writing PNGs (`encode_png`, `write_png`) is in png_output.py; both names are importable from here.
"""
from __future__ import annotations

import io
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from imageprivacy.data.image_formats import IMAGE_SUFFIXES, is_image_file
from imageprivacy.data.image_modes import (GRAYSCALE_MODES, SIXTEEN_BIT_MODES, channels_and_alpha,
                                           decoded_as_8_bit, transparent_color)
from imageprivacy.data.image_scan import file_kind
from imageprivacy.data.png_output import TEMP_SUFFIX, default_file_mode, encode_png, write_png
from imageprivacy.errors import CorruptImageError

__all__ = ["IMAGE_SUFFIXES", "GRAYSCALE_MODES", "TEMP_SUFFIX", "DecodedImage", "read_source", "decode_image",
           "read_image", "read_size", "encode_png", "write_png", "is_image_file", "iter_image_files",
           "default_file_mode"]
_ROTATING_ORIENTATIONS = {5, 6, 7, 8}      # EXIF orientations that swap width and height
# Modes whose ICC profile still describes the pixels we write; a CMYK or LAB profile would not.
_PROFILE_KEEPING_MODES = GRAYSCALE_MODES | {"P", "PA", "RGB", "RGBA", "RGBX", "RGBa"}


@dataclass
class DecodedImage:
    pixels: torch.Tensor              # (C, H, W), C = 1 (grayscale) or 3: uint8, or int32 0..65535 if bit_depth 16
    alpha: torch.Tensor | None        # uint8 (H, W), or None when the file has no alpha channel
    mode: str                         # the Pillow mode of the file, before any conversion
    size: tuple[int, int]             # (width, height) as displayed, i.e. after EXIF orientation
    icc_profile: bytes | None = None  # the colour profile, written back by write_png
    transparent_color: tuple[int, ...] | None = None   # tRNS: the one colour that is transparent
    bit_depth: int = 8
    frames: int = 1                   # frames or pages in the file; only the first is decoded
    notes: list[str] = field(default_factory=list)     # what the decode lost (e.g. 16-bit colour read as 8)


def _fail(path, reason: str) -> CorruptImageError:
    error = CorruptImageError(f"cannot read image {path}: {reason}")
    error.path, error.reason = str(path), reason    # so a summary can list the reason alone
    return error


def _reason(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _open_regular(path: str | Path) -> BinaryIO:
    """An open binary file, only if `path` is a regular file (CorruptImageError otherwise).

    O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever, before any check.
    """
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as err:
        raise _fail(path, _reason(err)) from err
    source = os.fdopen(handle, "rb")
    kind = os.fstat(handle).st_mode
    if not stat.S_ISREG(kind):
        source.close()
        raise _fail(path, f"{file_kind(kind)}, not a regular file: not read")
    return source


def read_source(path: str | Path) -> bytes:
    """The bytes of a regular file; CorruptImageError for anything else (FIFO, device, folder, unreadable)."""
    with _open_regular(path) as source:
        try:
            return source.read()
        except OSError as err:
            raise _fail(path, _reason(err)) from err


def decode_image(data: bytes, path: str | Path, keep_16_bit: bool = False) -> DecodedImage:
    """Decode a file's bytes (policy: module docstring and image_modes.py); CorruptImageError if they do not.

    `keep_16_bit`: 16-bit gray stays 16-bit (int32 pixels, bit_depth 16) instead of being scaled to 8 bits.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            frames = getattr(img, "n_frames", 1)
            notes = ["16-bit colour decoded as 8-bit (Pillow has no 16-bit colour mode)"] if decoded_as_8_bit(
                img) else []
            img.load()                    # decode now: a truncated file fails here, not later
            mode = img.mode
            icc = img.info.get("icc_profile") if mode in _PROFILE_KEEPING_MODES else None
            key = transparent_color(img)
            ImageOps.exif_transpose(img, in_place=True)     # in place: no second copy of a large photo
            pixels, alpha = channels_and_alpha(img, keep_16_bit)
    except Image.DecompressionBombError as err:
        raise _fail(path, f"decompression bomb refused ({err})") from err
    except UnidentifiedImageError as err:        # its message names the in-memory buffer, not the file
        raise _fail(path, "not an image this package reads (unknown format, or a damaged header)") from err
    # Pillow's decoders raise many exception types on malformed files, not only OSError.
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError,
            struct.error, MemoryError) as err:
        raise _fail(path, _reason(err)) from err
    depth = 16 if pixels.dtype == np.int32 else 8
    if depth == 8 and mode in SIXTEEN_BIT_MODES:
        key = None                        # a 16-bit key of an image scaled to 8 bits no longer names a colour
    tensor = torch.from_numpy(np.array(pixels.transpose(2, 0, 1), order="C"))   # one writable copy, channels first
    del pixels
    return DecodedImage(pixels=tensor, alpha=None if alpha is None else torch.from_numpy(alpha), mode=mode,
                        size=(tensor.shape[2], tensor.shape[1]), icc_profile=icc, transparent_color=key,
                        bit_depth=depth, frames=int(frames), notes=notes)


def read_image(path: str | Path, keep_16_bit: bool = False) -> DecodedImage:
    """Decode one image file into tensors (policy: module docstring).

    Raises CorruptImageError (with the path and the reason) for anything that does not decode:
    a missing, unreadable or non-regular file, zero bytes, not an image, a truncated file, a
    decompression bomb.
    """
    return decode_image(read_source(path), path, keep_16_bit)


def read_size(path: str | Path) -> tuple[int, int]:
    """(width, height) as displayed (EXIF orientation applied), from the header only: cheap."""
    try:
        with _open_regular(path) as source, Image.open(source) as img:
            width, height = img.size
            if img.getexif().get(0x0112) in _ROTATING_ORIENTATIONS:
                width, height = height, width
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        raise _fail(path, _reason(err)) from err
    return width, height


def iter_image_files(root: str | Path) -> Iterator[Path]:
    """Image files under `root`, recursively, sorted by relative path; hidden files and folders are skipped."""
    root = Path(root)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder, f) for f in files if not f.startswith(".") and is_image_file(Path(f))]
    yield from sorted(found, key=lambda p: p.relative_to(root).parts)
