"""Folders of image files: one subfolder per class (the ImageFolder convention), or flat and unlabelled.

Used for ImageNet25 (the first 25 ImageNet classes), Keratitis and protected copies written by
`imageprivacy protect`. Classes are the subfolder names sorted by name, so label k is the k-th
name; image files are found recursively (see image_files.iter_image_files). A file that does not
decode is reported in `skipped` as (path, reason) instead of stopping a load of thousands.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from imageprivacy.data.image_files import iter_image_files, read_image
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import ConfigurationError, CorruptImageError, DatasetError, InputShapeError

Skipped = list[tuple[str, str]]            # (path, reason) of each file that could not be used


def resize_pixels(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """(C, H, W) uint8 -> (C, size, size) with Pillow bicubic (antialiased when shrinking)."""
    if tuple(pixels.shape[1:]) == (size, size):
        return pixels
    array = pixels.permute(1, 2, 0).numpy()
    image = Image.fromarray(array[..., 0] if pixels.shape[0] == 1 else np.ascontiguousarray(array))
    resized = np.asarray(image.resize((size, size), Image.Resampling.BICUBIC))
    return torch.from_numpy(resized.reshape(size, size, -1).transpose(2, 0, 1).copy())


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """(N, C, H, W) uint8 -> (N, C, size, size), the same resampling as image folders get."""
    if tuple(images.shape[2:]) == (size, size):
        return images
    return torch.stack([resize_pixels(p, size) for p in images]) if len(images) else \
        images.new_zeros((0, images.shape[1], size, size))


def convert_channels(pixels: torch.Tensor, channels: int) -> torch.Tensor:
    """(C, H, W) uint8 to 1 or 3 channels: gray is repeated, colour -> luminance as Pillow's 'L'."""
    if pixels.shape[0] == channels:
        return pixels
    if channels == 3:
        return pixels.expand(3, -1, -1).contiguous()
    gray = Image.fromarray(np.ascontiguousarray(pixels.permute(1, 2, 0).numpy())).convert("L")
    return torch.from_numpy(np.asarray(gray).copy())[None]


def _check_options(size: int | None, channels: int | None, max_per_class: int | None = None) -> None:
    if size is not None and (not isinstance(size, int) or size < 1):
        raise InputShapeError(f"size must be a positive int, got {size!r}")
    if channels not in (None, 1, 3):
        raise InputShapeError(f"channels must be 1 or 3, got {channels!r}")
    if max_per_class is not None and (not isinstance(max_per_class, int) or max_per_class < 1):
        raise ConfigurationError(f"max_per_class must be a positive int, got {max_per_class!r}")


def decode_readable(paths, size: int | None, skipped: Skipped, limit: int | None = None) -> list[tuple[Path, torch.Tensor]]:
    """Decoded (and resized) pixels of up to `limit` readable files; the rest go to `skipped`."""
    decoded = []
    for path in paths:
        if limit is not None and len(decoded) >= limit:
            break
        try:
            pixels = read_image(path).pixels
        except CorruptImageError as err:
            skipped.append((str(path), getattr(err, "reason", str(err))))
            continue
        decoded.append((path, pixels if size is None else resize_pixels(pixels, size)))
    return decoded


def _stack(decoded: list[tuple[Path, torch.Tensor]], channels: int | None, root: Path) -> torch.Tensor:
    first_path, first = decoded[0]
    for path, pixels in decoded:
        if pixels.shape[1:] != first.shape[1:]:
            raise DatasetError(f"images in {root} differ in size: {first_path.name} is "
                               f"{first.shape[2]}x{first.shape[1]}, {path.name} is {pixels.shape[2]}x{pixels.shape[1]}; "
                               "pass size=N to resize every image to N x N (CLI: --size N)")
    # Default channels: colour as soon as one image is colour, so no colour is thrown away.
    channels = channels or max(p.shape[0] for _, p in decoded)
    return torch.stack([convert_channels(p, channels) for _, p in decoded])


def _set_name(root: Path) -> str:
    return f"{root.parent.name}/{root.name}" if root.name in ("train", "val", "test") else root.name


def read_image_folder(root: str | Path, size: int | None = None, channels: int | None = None,
                      max_per_class: int | None = None) -> tuple[ImageSet, Skipped]:
    """A class-subfolder tree as an ImageSet, plus the (path, reason) of every file skipped.

    `max_per_class` keeps the first readable files of each class in path order (reproducible).
    """
    _check_options(size, channels, max_per_class)
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"image folder {root} does not exist; expected {root}/<class name>/<image files>")
    class_dirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                        key=lambda d: d.name)
    if not class_dirs:
        raise DatasetError(f"{root} has no class subfolders; a labelled image folder is {root}/<class name>/"
                           "<image files> (for images without classes use load_unlabeled_folder)")
    skipped: Skipped = [(str(p), "not inside a class subfolder") for p in iter_image_files(root)
                        if p.parent == root]
    decoded, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        # A class folder with no images keeps its index, so sibling splits agree on the classes.
        found = decode_readable(iter_image_files(class_dir), size, skipped, max_per_class)
        decoded += found
        labels += [label] * len(found)
    if not decoded:
        raise DatasetError(f"no readable image in {root} ({len(skipped)} files skipped"
                           + (f", e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ")"))
    images = _stack(decoded, channels, root)
    return ImageSet(images, torch.tensor(labels), [d.name for d in class_dirs], _set_name(root)), skipped


def load_image_folder(root: str | Path, size: int | None = None, channels: int | None = None,
                      max_per_class: int | None = None) -> ImageSet:
    """read_image_folder without the skipped list."""
    return read_image_folder(root, size, channels, max_per_class)[0]


def read_unlabeled_folder(root: str | Path, size: int | None = None,
                          channels: int | None = None) -> tuple[ImageSet, Skipped]:
    """Every image under `root` (recursively, path order) with labels None, plus the skipped files."""
    _check_options(size, channels)
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"image folder {root} does not exist")
    skipped: Skipped = []
    decoded = decode_readable(iter_image_files(root), size, skipped)
    if not decoded:
        raise DatasetError(f"no readable image in {root} ({len(skipped)} files skipped)")
    return ImageSet(_stack(decoded, channels, root), None, [], _set_name(root)), skipped


def load_unlabeled_folder(root: str | Path, size: int | None = None, channels: int | None = None) -> ImageSet:
    """read_unlabeled_folder without the skipped list."""
    return read_unlabeled_folder(root, size, channels)[0]
