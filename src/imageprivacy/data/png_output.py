"""Writing lossless PNGs of the package's pixels, atomically and with the permissions a plain write gives.

`encode_png` drops EXIF and other metadata on purpose (GPS position, camera serial numbers: this
package is about privacy) but keeps the ICC colour profile, so colours look the same, and the tRNS
transparent colour. Temporary files end in TEMP_SUFFIX and start with a dot: no folder walk takes
a leftover one for an image.

`compress_level` is zlib's level, 0 (stored, no compression) to 9 (zlib's strongest); it changes
the file's bytes and size, never its pixels. The default is 1: encoding was most of what
`imageprivacy protect` spent on a photo (issue 18). benchmarks/png_levels.py on the machine it was
written on (2 busy cores, Pillow 13.0, zlib 1.2.13), one 1024x1024 photo (smooth colours plus
grain): level 0 0.033 s 3.15 MB, 1 0.073 s 2.06 MB, 3 0.096 s 2.07 MB, 6 (Pillow's default, what was
written before) 0.175 s 2.20 MB, 9 0.175 s 2.20 MB (benchmarks/results/png_levels.json). On grain the slower
levels find no better matches; on smooth graphics 9 does write smaller files.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image

from imageprivacy.data.image_modes import GRAYSCALE_MODES
from imageprivacy.errors import ConfigurationError, InputShapeError

TEMP_SUFFIX = ".imageprivacy-tmp"
DEFAULT_COMPRESS_LEVEL = 1      # module docstring: 2.4x faster than 6 on a photo, and no larger
COMPRESS_LEVELS = range(10)     # zlib's


def check_compress_level(level) -> int:
    """`level` when it is a zlib level (an int 0..9), else a ConfigurationError naming the range."""
    if isinstance(level, bool) or not isinstance(level, int) or level not in COMPRESS_LEVELS:
        raise ConfigurationError(f"PNG compression level must be an integer from 0 (none) to 9 (zlib's "
                                 f"strongest), got {level!r}")
    return level


def default_file_mode() -> int:
    """The permissions a plain open() would give a new file: 0o666 less the umask (a temporary file gets 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def encode_png(out: BinaryIO, pixels: torch.Tensor, alpha: torch.Tensor | None = None,
               original_mode: str | None = None, icc_profile: bytes | None = None,
               transparency: tuple[int, ...] | None = None, *,
               compress_level: int = DEFAULT_COMPRESS_LEVEL) -> None:
    """Encode a lossless PNG into `out`: 1 channel -> 'L' ('LA' with alpha), 3 channels -> 'RGB' ('RGBA').

    int32 single-channel pixels (0..65535) become a 16-bit PNG ('I;16'). `transparency`: the tRNS
    colour (one value per channel). `original_mode` (the mode read_image reported), when given, is
    checked against the channel count, so a grayscale original never comes out as colour or the reverse.
    """
    check_compress_level(compress_level)
    sixteen = pixels.dtype == torch.int32
    if (pixels.dtype != torch.uint8 and not sixteen) or pixels.dim() != 3 or pixels.shape[0] not in (1, 3) \
            or (sixteen and (pixels.shape[0] != 1 or alpha is not None)):
        raise InputShapeError(f"pixels must be uint8 (C, H, W) with C = 1 or 3, or int32 (1, H, W) without "
                              f"alpha, got {pixels.dtype} {tuple(pixels.shape)}")
    channels, height, width = pixels.shape
    if alpha is not None and (alpha.dtype != torch.uint8 or tuple(alpha.shape) != (height, width)):
        raise InputShapeError(f"alpha must be uint8 ({height}, {width}), got {alpha.dtype} {tuple(alpha.shape)}")
    if original_mode is not None and (original_mode in GRAYSCALE_MODES) != (channels == 1):
        raise InputShapeError(f"{channels} channel(s) cannot be written for an original in mode {original_mode!r}")
    if transparency is not None and (alpha is not None or len(transparency) != channels):
        raise InputShapeError(f"a transparent colour needs one value per channel and no alpha, got {transparency}")
    if sixteen:
        image = Image.fromarray(pixels[0].cpu().numpy().astype(np.uint16))      # -> 'I;16'
    else:
        planes = pixels.cpu() if alpha is None else torch.cat([pixels.cpu(), alpha.cpu()[None]])
        array = planes.permute(1, 2, 0).contiguous().numpy()
        del planes
        image = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)   # (H,W[,2|3|4]) uint8 -> mode
        del array
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if transparency is not None:
        options["transparency"] = transparency[0] if channels == 1 else tuple(transparency)
    image.save(out, format="PNG", compress_level=compress_level, **options)


def write_png(path: str | Path, pixels: torch.Tensor, alpha: torch.Tensor | None = None,
              original_mode: str | None = None, icc_profile: bytes | None = None,
              transparency: tuple[int, ...] | None = None, *,
              compress_level: int = DEFAULT_COMPRESS_LEVEL) -> Path:
    """encode_png to `path`, atomically, so a crash never leaves a half-written PNG.

    A temporary file in the same folder (mkstemp: mode 0600), then the mode a plain write would give
    (0o666 less the umask) and os.replace.
    """
    check_compress_level(compress_level)      # before a folder is made or a temporary file left
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden name and no image suffix: a folder walk never picks up a leftover temporary file.
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as out:
            # No fsync (it would cost more than encoding a small PNG): os.replace already guards
            # against a crashed process.
            encode_png(out, pixels, alpha, original_mode, icc_profile, transparency,
                       compress_level=compress_level)
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
