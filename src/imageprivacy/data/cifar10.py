"""CIFAR-10 from the "python version" batches (cifar-10-batches-py/data_batch_1..5, test_batch).

The batches are Python 2 pickles of dicts with bytes keys (b'data': uint8 (10000, 3072) rows of
R, G, B planes; b'labels': list of ints), and batches.meta holds b'label_names'.
"""
from __future__ import annotations

import codecs
import pickle
from pathlib import Path

import numpy as np
import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError

BATCHES_FOLDER = "cifar-10-batches-py"
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10_HELP = ("download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, extract it "
                f"(`tar xzf cifar-10-python.tar.gz`) and pass the {BATCHES_FOLDER} folder or its parent as data_dir")
_SPLIT_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


def _numpy_reconstruct():
    # numpy 2 moved numpy.core to numpy._core; importing the old name only warns, so prefer the new.
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:                                   # numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays, nothing else.

    A pickle can name any importable callable (os.system, subprocess.Popen, ...) and the default
    unpickler calls it while loading: opening a downloaded file would run its author's code. The
    CIFAR batches only need numpy's array reconstruction and, for bytes written by Python 3 with
    protocol 2, _codecs.encode; every other global is refused before it is imported.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
        ("_codecs", "encode"): lambda: codecs.encode,
    }

    def find_class(self, module: str, name: str):
        resolve = self._ALLOWED.get((module, name))
        if resolve is None:
            raise DatasetError(f"refusing to unpickle {module}.{name}: a CIFAR batch only holds numpy "
                               "arrays and lists, this file may be malicious")
        return resolve()


def unpickle_batch(path: str | Path) -> dict:
    """One CIFAR batch file as a dict with bytes keys, unpickled without running foreign code."""
    try:
        with open(path, "rb") as handle:
            batch = _ArraysOnlyUnpickler(handle, encoding="bytes").load()
    except DatasetError:
        raise
    except FileNotFoundError as err:
        raise DatasetError(f"expected {Path(path).name} in {Path(path).parent}, not found; {CIFAR10_HELP}") from err
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as err:      # truncated or not a pickle at all
        raise DatasetError(f"cannot read CIFAR batch {path}: {type(err).__name__}: {err}") from err
    if not isinstance(batch, dict):
        raise DatasetError(f"CIFAR batch {path} holds a {type(batch).__name__}, expected a dict")
    # Python 3 pickles of the format may have str keys; the originals have bytes keys.
    return {k.encode() if isinstance(k, str) else k: v for k, v in batch.items()}


def batches_dir(data_dir: str | Path) -> Path:
    """data_dir itself when it is the batches folder, else its cifar-10-batches-py child."""
    data_dir = Path(data_dir)
    if (data_dir / BATCHES_FOLDER).is_dir():
        return data_dir / BATCHES_FOLDER
    if data_dir.is_dir():
        return data_dir
    raise DatasetError(f"CIFAR-10 folder {data_dir} does not exist; {CIFAR10_HELP}")


def _class_names(folder: Path) -> list[str]:
    if not (folder / "batches.meta").is_file():
        return list(CIFAR10_CLASSES)       # the names are fixed; the meta file is a convenience
    names = unpickle_batch(folder / "batches.meta").get(b"label_names")
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{folder / 'batches.meta'} has no b'label_names' list")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def load_cifar10(data_dir: str | Path, split: str = "train") -> ImageSet:
    """CIFAR-10: 50000 train / 10000 test RGB 32x32 images as (N, 3, 32, 32) uint8."""
    if split not in _SPLIT_FILES:
        raise DatasetError(f"cifar10 has splits 'train' and 'test', not {split!r}")
    folder = batches_dir(data_dir)
    images, labels = [], []
    for file_name in _SPLIT_FILES[split]:
        path = folder / file_name
        if not path.is_file():
            raise DatasetError(f"expected {file_name} in {folder}, not found; {CIFAR10_HELP}")
        batch = unpickle_batch(path)
        data, batch_labels = batch.get(b"data"), batch.get(b"labels")
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or batch_labels is None:
            raise DatasetError(f"{path} is not a CIFAR-10 batch: expected b'data' uint8 (N, 3072) and b'labels'")
        if len(data) != len(batch_labels):
            raise DatasetError(f"{path} holds {len(data)} images but {len(batch_labels)} labels")
        images.append(data.astype(np.uint8, copy=False).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch_labels, dtype=np.int64))
    class_names = _class_names(folder)
    labels_all = np.concatenate(labels)
    if len(labels_all) and (labels_all.min() < 0 or labels_all.max() >= len(class_names)):
        raise DatasetError(f"CIFAR-10 labels in {folder} lie outside 0..{len(class_names) - 1}")
    return ImageSet(torch.from_numpy(np.concatenate(images)), torch.from_numpy(labels_all), class_names,
                    f"cifar10/{split}")
