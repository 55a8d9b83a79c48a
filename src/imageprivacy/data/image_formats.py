"""Which image files the package reads, and what to tell a user about the ones it cannot.

Pillow reads PNG, JPEG (also named .jfif), BMP, GIF, TIFF and WebP everywhere; AVIF when Pillow was
built with libavif (its wheels are, from 11.3 on); HEIC/HEIF only through the pillow-heif plugin,
which `pip install 'imageprivacy[heif]'` adds and which is registered here whenever it is installed.
A suffix counts as supported only when this Pillow has an opener for it (`Image.registered_extensions`),
so a folder of HEIC photos is listed as not protected, with what to install, instead of being ignored.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image

try:      # the optional extra `imageprivacy[heif]`: HEIC/HEIF photos (phones save them by default)
    from pillow_heif import register_heif_opener
except ImportError:
    register_heif_opener = None
if register_heif_opener is not None:
    register_heif_opener()

ALWAYS_SUPPORTED = frozenset({".png", ".jpg", ".jpeg", ".jfif", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
HEIF_HINT = "HEIC/HEIF needs the HEIF plugin: pip install 'imageprivacy[heif]'"
# Formats whose files a user may well have in a photo folder, and what to do about each.
_HINTS = {
    ".heic": HEIF_HINT, ".heif": HEIF_HINT, ".hif": HEIF_HINT,
    ".avif": "this Pillow cannot read AVIF: pip install -U pillow (11.3 or later reads AVIF)",
    ".jxl": "JPEG XL is not supported: convert it to PNG first",
    ".svg": "vector images are not supported: export a PNG first",
    ".psd": "Photoshop files are not supported (layers would be lost): export a PNG first",
    **{suffix: "camera raw files are not supported: export a PNG or JPEG first"
       for suffix in (".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf")},
}


OPTIONAL = frozenset({".heic", ".heif", ".hif", ".avif"})   # read when this Pillow (or its plugin) has an opener


def _supported() -> frozenset[str]:
    opened = Image.registered_extensions()
    return ALWAYS_SUPPORTED | frozenset(suffix for suffix in OPTIONAL if suffix in opened)


IMAGE_SUFFIXES = _supported()


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def unsupported_reason(path: Path) -> str | None:
    """Why a file that looks like an image is not read (with what to do), or None when it is read or no image."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES or suffix not in _HINTS:
        return None
    return f"not protected: {_HINTS[suffix]}"


def looks_like_image(path: Path) -> bool:
    """An image suffix, read or not: such a name is listed when the file behind it cannot be protected."""
    return is_image_file(path) or path.suffix.lower() in _HINTS
