"""From a decoded Pillow image to the package's pixels: which mode becomes what (policy of image_files.read_image).

- 'L' -> 1 channel; 'LA' -> 1 channel + alpha; '1' (bilevel) -> 'L' (0 or 255).
- 'RGB' -> 3 channels; 'RGBA' -> 3 channels + alpha.
- 'P' (palette) -> 'RGB', or 'RGB' + alpha when the palette has transparency.
- 'L', 'RGB' and 16-bit gray with a PNG tRNS chunk (one colour is transparent): the pixels as they are,
  and that colour as `transparent_color`, so the output keeps it (protected_pixels.py keeps it exact).
- 'I;16*' and 'I' (16-bit grayscale): 1 channel of int32 values 0..65535 when 16 bits are kept;
  otherwise scaled to 8 bit (value / 257, rounded), what the data loaders want.
- 'F' (float) -> clipped to 0..255 by Pillow; 'CMYK', 'YCbCr', 'LAB', 'HSV', ... -> 'RGB'.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

GRAYSCALE_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
_KEYED_MODES = frozenset({"L", "RGB"}) | SIXTEEN_BIT_MODES     # where a tRNS colour can sit


def transparent_color(img: Image.Image) -> tuple[int, ...] | None:
    """The one transparent colour of a keyed (tRNS) image, one value per channel; None if it has none."""
    key = img.info.get("transparency")
    if img.mode not in _KEYED_MODES or key is None or isinstance(key, bytes):
        return None
    return tuple(int(v) for v in key) if isinstance(key, tuple) else (int(key),)


def sixteen_bit_values(img: Image.Image) -> np.ndarray:
    """(H, W) int32 in 0..65535 of a 16-bit gray image ('I' can hold more: clipped)."""
    return np.asarray(img).astype(np.int32).clip(0, 65535)


def channels_and_alpha(img: Image.Image, keep_16_bit: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W, C) pixels (uint8, or int32 for kept 16-bit gray) and (H, W) alpha or None (module docstring)."""
    mode = img.mode
    if mode == "P":
        has_alpha = "transparency" in img.info or img.palette.mode == "RGBA"
        img, mode = img.convert("RGBA" if has_alpha else "RGB"), ("RGBA" if has_alpha else "RGB")
    elif mode in ("PA", "RGBa"):
        img, mode = img.convert("RGBA"), "RGBA"
    elif mode == "La":
        img, mode = img.convert("LA"), "LA"
    if mode in ("LA", "RGBA"):
        both = np.asarray(img)
        return both[..., :-1], both[..., -1].copy()
    if mode in SIXTEEN_BIT_MODES:
        values = sixteen_bit_values(img)
        return (values if keep_16_bit else np.round(values / 257.0).astype(np.uint8))[..., None], None
    if mode in GRAYSCALE_MODES:
        return np.asarray(img if mode == "L" else img.convert("L"))[..., None], None
    return np.asarray(img if mode == "RGB" else img.convert("RGB")), None


def decoded_as_8_bit(img: Image.Image) -> bool:
    """True for a 16-bit-per-channel colour file: Pillow has no such mode and decodes it to 8 bits."""
    return img.mode not in SIXTEEN_BIT_MODES and any(";16" in str(tile.args) for tile in img.tile or [])
