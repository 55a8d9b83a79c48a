"""Data sets by name: `load_dataset("cifar10", split="test")`, or a folder path for your own images."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from imageprivacy.data.celeba import read_celeba
from imageprivacy.data.cifar10 import load_cifar10
from imageprivacy.data.fashion_mnist import FASHION_MNIST_DIR, load_fashion_mnist, load_mnist
from imageprivacy.data.image_folder import Skipped, read_image_folder, resize_images
from imageprivacy.data.imageset import ImageSet
from imageprivacy.data.isic import read_isic2017
from imageprivacy.data.medmnist import MEDMNIST_DIR, MEDMNIST_FLAGS, load_medmnist
from imageprivacy.data.svhn import load_svhn
from imageprivacy.errors import ConfigurationError, DatasetError

DATA_ROOT_VARIABLE = "IMAGEPRIVACY_DATA"        # a folder holding one subfolder per data set name
CACHE_ROOT = Path.home() / ".cache" / "imageprivacy"

DATASETS = {
    "fashion-mnist": "Fashion-MNIST: 60000/10000 grayscale 28x28 clothing images, 10 classes (IDX files)",
    "mnist": "MNIST: 60000/10000 grayscale 28x28 digits (IDX files)",
    "cifar10": "CIFAR-10: 50000/10000 RGB 32x32 images, 10 classes (python batches)",
    "svhn": "SVHN: RGB 32x32 house-number digits (train/test/extra_32x32.mat)",
    "bloodmnist": "BloodMNIST: RGB blood-cell images, 8 classes (MedMNIST .npz, splits train/val/test)",
    **{flag: "MedMNIST 2-D data set (.npz, splits train/val/test)"
       for flag in MEDMNIST_FLAGS if flag not in ("bloodmnist", "chestmnist")},   # ChestMNIST is multi-label
    "image-folder": "your images, one subfolder per class (data_dir; data_dir/<split> if it exists), "
                    "e.g. ImageNet25, Keratitis; options size, channels, max_per_class",
    "isic2017": "ISIC 2017 skin lesions: nevus/other, melanoma, seborrheic keratosis (JPEGs + CSV; size, default 64)",
    "celeba": "CelebA aligned faces, 40 binary attributes, splits train/val/test (size, default 64; no class labels)",
}
_ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10", "isic-2017": "isic2017",
            "imagefolder": "image-folder", "folder": "image-folder"}
_FOLDER_OPTIONS = {"size", "channels", "max_per_class"}


def _canonical(name: str) -> str | None:
    """The registry key for `name`, or None when it is not a data set name."""
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key in DATASETS:
        return key
    # An unlisted *mnist name is a MedMNIST flag, unless it is the path of a folder of images.
    if key.endswith("mnist") and "/" not in key and os.sep not in key and not Path(name).is_dir():
        return key
    return None


def _is_medmnist(key: str) -> bool:
    return key.endswith("mnist") and key not in ("mnist", "fashion-mnist")


def default_data_dir(name: str) -> Path | None:
    """Where `name` is looked for when no data_dir is given (None for image-folder: it has no default).

    $IMAGEPRIVACY_DATA/<name> (MedMNIST: $IMAGEPRIVACY_DATA/medmnist) when that exists, else the data set's usual place: the Debian
    package's folder for Fashion-MNIST, ~/.medmnist for MedMNIST, ~/.cache/imageprivacy/<name>.
    """
    key = _canonical(name)
    if key is None:
        raise DatasetError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    if key == "image-folder":
        return None
    folder = "medmnist" if _is_medmnist(key) else key
    standard = {"fashion-mnist": FASHION_MNIST_DIR}.get(key, MEDMNIST_DIR if _is_medmnist(key) else CACHE_ROOT / key)
    root = os.environ.get(DATA_ROOT_VARIABLE)
    candidates = ([Path(root) / folder] if root else []) + [standard]
    return next((c for c in candidates if c.exists()), candidates[0])


def _warn_skipped(skipped: Skipped, where) -> None:
    # The registry returns only the ImageSet; say what was left out rather than drop it silently.
    if skipped:
        path, reason = skipped[0]
        warnings.warn(f"{len(skipped)} file(s) skipped in {where}, e.g. {path}: {reason}", stacklevel=3)


def _load_folder(data_dir, split: str, options: dict) -> ImageSet:
    if data_dir is None:
        raise DatasetError("image-folder needs data_dir: a folder with one subfolder per class")
    root = Path(data_dir)
    root = root / split if (root / split).is_dir() else root
    images, skipped = read_image_folder(root, **options)
    _warn_skipped(skipped, root)
    return images


def load_dataset(name: str | Path, split: str = "train", data_dir: str | Path | None = None,
                 **options) -> ImageSet:
    """Load one split of a data set by name (see DATASETS), or of the image folder at path `name`.

    Options: `size` (resize to size x size; every data set), and for image folders `channels`
    and `max_per_class`. An option set to None counts as not given.
    """
    options = {k: v for k, v in options.items() if v is not None}
    key = _canonical(name)
    if key is None:
        if not Path(name).is_dir():
            raise DatasetError(f"unknown data set {str(name)!r} and no such folder; known: {', '.join(DATASETS)}")
        key, data_dir = "image-folder", name          # a known name wins over a folder of that name
    allowed = _FOLDER_OPTIONS if key == "image-folder" else {"size"}
    if set(options) - allowed:
        raise ConfigurationError(f"{key} does not take option(s) {sorted(set(options) - allowed)}; "
                                 f"it takes {sorted(allowed)}")
    if key == "image-folder":
        return _load_folder(data_dir, split, options)
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir(key)
    size = options.get("size")
    if key == "celeba":
        images, skipped = read_celeba(data_dir, split, **options)
        _warn_skipped(skipped, data_dir)
        return images
    if key == "isic2017":
        images, skipped = read_isic2017(data_dir, split, **options)
        _warn_skipped(skipped, data_dir)
        return images
    if _is_medmnist(key):
        images = load_medmnist(key, data_dir, split, size=size)
    else:
        loader = {"fashion-mnist": load_fashion_mnist, "mnist": load_mnist, "cifar10": load_cifar10,
                  "svhn": load_svhn}[key]
        images = loader(data_dir, split)
    if size is not None and images.image_size != (size, size):
        images = images.with_images(resize_images(images.images, size))
    return images
