"""Fashion-MNIST and MNIST from their original IDX files (gzipped or not).

IDX layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, a dtype code, the number of
dimensions, one big-endian uint32 per dimension, then the values in C order, big-endian.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_HELP = ("install it with `apt-get install -y dataset-fashion-mnist` (files go to "
                      f"{FASHION_MNIST_DIR}) or download the four *-ubyte.gz files from "
                      "https://github.com/zalandoresearch/fashion-mnist and pass their folder as data_dir")
MNIST_HELP = ("download the four *-ubyte.gz files from http://yann.lecun.com/exdb/mnist/ (or a mirror) "
              "and pass their folder as data_dir")

# dtype code -> big-endian numpy dtype, as the IDX format defines them.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"
_SPLIT_PREFIX = {"train": "train", "test": "t10k", "t10k": "t10k"}   # t10k: the files' own name


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in one IDX file (writable, native byte order); gzip is recognised by content."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:   # missing, unreadable, or a truncated/corrupt gzip stream
        raise DatasetError(f"cannot read IDX file {path}: {err}") from err
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path} is not an IDX file (magic bytes {raw[:4].hex() or 'missing'}; "
                           "expected 0000 + dtype code + number of dimensions)")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"IDX file {path} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DatasetError(f"IDX file {path} holds {len(raw)} bytes, its header {dims} says {expected}")
    # A writable copy in native byte order: torch can wrap neither a read-only nor a big-endian array.
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _find(data_dir: Path, stem: str, help_text: str) -> Path:
    # Some mirrors write "train-images.idx3-ubyte" (a dot instead of the dash).
    for name in (stem, stem.replace("-idx", ".idx")):
        for candidate in (data_dir / name, data_dir / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise DatasetError(f"expected {stem} or {stem}.gz in {data_dir}, not found; {help_text}")


def load_idx_dataset(data_dir: str | Path, split: str, class_names: list[str], name: str,
                     help_text: str = MNIST_HELP) -> ImageSet:
    """A split ('train' or 't10k'/'test') of an MNIST-format data set as (N, 1, H, W) uint8."""
    data_dir = Path(data_dir)
    prefix = _SPLIT_PREFIX.get(split)
    if prefix is None:
        raise DatasetError(f"{name} has splits 'train' and 'test', not {split!r}")
    if not data_dir.is_dir():
        raise DatasetError(f"{name} folder {data_dir} does not exist; {help_text}")
    images_path = _find(data_dir, f"{prefix}-images-idx3-ubyte", help_text)
    labels_path = _find(data_dir, f"{prefix}-labels-idx1-ubyte", help_text)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DatasetError(f"{images_path} must hold uint8 images (N, H, W), got {images.dtype} {images.shape}")
    if labels.ndim != 1:
        raise DatasetError(f"{labels_path} must hold one label per image (N,), got shape {labels.shape}")
    if len(images) != len(labels):
        raise DatasetError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                           f"{len(labels)} labels; the files do not belong together")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise DatasetError(f"{labels_path} has labels outside 0..{len(class_names) - 1}")
    return ImageSet(torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels.astype(np.int64)),
                    list(class_names), f"{name}/{split}")


def load_fashion_mnist(data_dir: str | Path = FASHION_MNIST_DIR, split: str = "train") -> ImageSet:
    """Fashion-MNIST: 60000 train / 10000 test grayscale 28x28 images, 10 clothing classes."""
    return load_idx_dataset(data_dir, split, FASHION_MNIST_CLASSES, "fashion-mnist", FASHION_MNIST_HELP)


def load_mnist(data_dir: str | Path, split: str = "train") -> ImageSet:
    """MNIST digits, same file format as Fashion-MNIST."""
    return load_idx_dataset(data_dir, split, MNIST_CLASSES, "mnist", MNIST_HELP)
