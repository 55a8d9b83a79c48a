"""MedMNIST 2-D data sets from their .npz files (bloodmnist.npz, pathmnist.npz, dermamnist_64.npz, ...).

Each file holds {train,val,test}_images, uint8 (N, H, W) grayscale or (N, H, W, 3) RGB, and
{train,val,test}_labels, (N, 1). Multi-label (ChestMNIST) and 3-D volumes are not single-label
images, so they are refused rather than silently misread.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError

MEDMNIST_DIR = Path.home() / ".medmnist"     # where the `medmnist` package downloads its files
MEDMNIST_SPLITS = ("train", "val", "test")
MEDMNIST_FLAGS = ("pathmnist", "chestmnist", "dermamnist", "octmnist", "pneumoniamnist", "retinamnist",
                  "breastmnist", "bloodmnist", "tissuemnist", "organamnist", "organcmnist", "organsmnist")
KNOWN_CLASS_NAMES = {
    "bloodmnist": ["basophil", "eosinophil", "erythroblast", "immature granulocytes",
                   "lymphocyte", "monocyte", "neutrophil", "platelet"],
}
MEDMNIST_HELP = ("download {file} from https://zenodo.org/records/10519652 (or with the `medmnist` "
                 "package, which saves it in ~/.medmnist) and pass its folder or the file as data_dir")


def npz_path(flag: str, data_dir: str | Path, size: int | None = None) -> Path:
    """The .npz file of `flag`: data_dir itself if it is a file, else data_dir/flag[_size].npz."""
    data_dir = Path(data_dir)
    if data_dir.is_file():
        return data_dir
    # MedMNIST+ names the larger sizes flag_64.npz etc.; 28x28 is plain flag.npz.
    names = [f"{flag}_{size}.npz"] if size and size != 28 else []
    names.append(f"{flag}.npz")
    for name in names:
        if (data_dir / name).is_file():
            return data_dir / name
    raise DatasetError(f"expected {names[0]} in {data_dir}, not found; " + MEDMNIST_HELP.format(file=names[0]))


def _class_names(flag: str, label_arrays: list[np.ndarray]) -> list[str]:
    if flag in KNOWN_CLASS_NAMES:
        return list(KNOWN_CLASS_NAMES[flag])
    # Count classes over every split of the file, so train/val/test agree on the class list.
    top = max((int(a.max()) for a in label_arrays if a.size), default=-1)
    return [str(i) for i in range(top + 1)]


def load_medmnist(flag: str, data_dir: str | Path = MEDMNIST_DIR, split: str = "train",
                  size: int | None = None) -> ImageSet:
    """One split of a 2-D single-label MedMNIST data set as (N, C, H, W) uint8, C = 1 or 3.

    `size` only picks the MedMNIST+ file of that size when it exists (flag_64.npz, ...); resizing
    to an arbitrary size is the registry's job.
    """
    if split not in MEDMNIST_SPLITS:
        raise DatasetError(f"{flag} has splits {', '.join(MEDMNIST_SPLITS)}, not {split!r}")
    path = npz_path(flag, data_dir, size)
    try:
        # allow_pickle=False: an .npz may hold pickled objects, and unpickling can run code.
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files if key.endswith(("_images", "_labels"))}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise DatasetError(f"cannot read {path} as a MedMNIST .npz file: {type(err).__name__}: {err}") from err
    images_key, labels_key = f"{split}_images", f"{split}_labels"
    if images_key not in arrays or labels_key not in arrays:
        raise DatasetError(f"{path} has no {images_key}/{labels_key} arrays (found {sorted(arrays)})")
    images, labels = arrays[images_key], arrays[labels_key]
    if labels.ndim == 2 and labels.shape[1] != 1:
        raise DatasetError(f"{path} is multi-label ({labels.shape[1]} labels per image); only single-label "
                           "MedMNIST data sets can be loaded")
    labels = labels.reshape(-1).astype(np.int64)
    if images.dtype != np.uint8:
        raise DatasetError(f"{path}: {images_key} must be uint8, got {images.dtype}")
    if images.ndim == 3:
        images = images[:, None]                                   # (N, H, W) grayscale
    elif images.ndim == 4 and images.shape[3] in (1, 3):
        images = images.transpose(0, 3, 1, 2)                      # (N, H, W, C) -> (N, C, H, W)
    else:
        raise DatasetError(f"{path}: {images_key} has shape {images.shape}; expected (N, H, W) or "
                           "(N, H, W, 3) (3-D MedMNIST volumes are not supported)")
    if len(images) != len(labels):
        raise DatasetError(f"{path} holds {len(images)} {split} images but {len(labels)} {split} labels")
    class_names = _class_names(flag, [a for k, a in arrays.items() if k.endswith("_labels")])
    if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise DatasetError(f"{path}: {labels_key} lie outside 0..{len(class_names) - 1}")
    return ImageSet(torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels), class_names,
                    f"{flag}/{split}")
