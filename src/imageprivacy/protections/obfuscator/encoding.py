"""What a phone sends: the obfuscated features of image files, written as one safetensors file.

Every image is brought to the obfuscator's input as the training images were (image_fitting: centre
crop to its aspect ratio, bicubic resize; colour -> gray or gray -> colour to its channel count).
A file that does not decode is skipped with its reason, never silently. The output holds
"features" (N, C, h, w) float32 and, in its metadata, the file names in the same order (relative
to IMAGES), the skipped files with reasons, and the obfuscator's `about`.
"""
from __future__ import annotations

from pathlib import Path

import torch

from imageprivacy.data.image_files import iter_image_files, read_image
from imageprivacy.data.image_fitting import fit_pixels
from imageprivacy.data.image_folder import Skipped, convert_channels
from imageprivacy.errors import CorruptImageError, DatasetError
from imageprivacy.nets.weights_file import read_tensors, save_tensors
from imageprivacy.protections.obfuscator.obfuscator import Obfuscator

FEATURES_KIND = "deepobfuscator-features"


def image_files(images: str | Path) -> tuple[Path, list[Path]]:
    """(root, files): every image under a folder (recursively), or the one file given."""
    images = Path(images)
    if images.is_dir():
        return images, list(iter_image_files(images))
    if images.is_file():
        return images.parent, [images]
    raise DatasetError(f"no image file or folder at {images}")


def encode_files(obfuscator: Obfuscator, images: str | Path,
                 batch_size: int = 256) -> tuple[torch.Tensor, list[str], Skipped]:
    """(features, names of the encoded files, skipped (path, reason)) for a folder or file of images."""
    root, files = image_files(images)
    channels, size = obfuscator.arch.channels, obfuscator.arch.image_size
    names, pixels, skipped = [], [], []
    for path in files:
        try:
            decoded = read_image(path).pixels
        except CorruptImageError as err:
            skipped.append((str(path), getattr(err, "reason", str(err))))
            continue
        pixels.append(convert_channels(fit_pixels(decoded, size), channels))
        names.append(path.relative_to(root).as_posix())
    if not pixels:
        raise DatasetError(f"no readable image in {images} ({len(skipped)} skipped"
                           + (f", e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ")"))
    return obfuscator.encode(torch.stack(pixels), batch_size), names, skipped


def write_features(path: str | Path, features: torch.Tensor, names: list[str], skipped: Skipped,
                   obfuscator: Obfuscator) -> Path:
    return save_tensors(path, {"features": features.float().contiguous()}, FEATURES_KIND,
                        {"files": names, "skipped": [list(s) for s in skipped],
                         "feature_shape": list(features.shape[1:]), "obfuscator": obfuscator.about})


def read_features(path: str | Path) -> tuple[torch.Tensor, list[str], dict]:
    """(features, file names, metadata) of a file written by write_features."""
    tensors, config = read_tensors(path, FEATURES_KIND)
    return tensors["features"], list(config["files"]), config
