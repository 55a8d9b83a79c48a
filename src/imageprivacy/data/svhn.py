"""SVHN (Street View House Numbers), cropped-digit format: train_32x32.mat, test_32x32.mat, extra_32x32.mat.

Each file is a MATLAB v5 file with X uint8 (32, 32, 3, N) and y (N, 1), where the digit 0 is
stored as label 10 (MATLAB's 1-based habit); we map it back to 0 so that label k means digit k.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError

SVHN_CLASSES = [str(d) for d in range(10)]
SVHN_SPLITS = ("train", "test", "extra")
SVHN_HELP = ("download http://ufldl.stanford.edu/housenumbers/{file} (format 2, cropped digits) "
             "into that folder or pass its folder as data_dir")


def _read_mat(path: Path) -> dict:
    from scipy.io import loadmat                 # scipy is slow to import; only SVHN needs it
    try:
        return loadmat(path, variable_names=["X", "y"])
    except NotImplementedError as err:           # MATLAB v7.3 (HDF5) files
        raise DatasetError(f"{path} is a MATLAB v7.3 file; SVHN's own files are v5: {err}") from err
    except (OSError, ValueError, TypeError, EOFError) as err:
        raise DatasetError(f"cannot read {path} as a MATLAB file: {type(err).__name__}: {err}") from err


def load_svhn(data_dir: str | Path, split: str = "train") -> ImageSet:
    """SVHN digits as (N, 3, 32, 32) uint8 with labels 0..9."""
    if split not in SVHN_SPLITS:
        raise DatasetError(f"svhn has splits {', '.join(SVHN_SPLITS)}, not {split!r}")
    data_dir = Path(data_dir)
    file_name = f"{split}_32x32.mat"
    path = data_dir / file_name
    if not path.is_file():
        raise DatasetError(f"expected {file_name} in {data_dir}, not found; " + SVHN_HELP.format(file=file_name))
    mat = _read_mat(path)
    if "X" not in mat or "y" not in mat:
        raise DatasetError(f"{path} has no X and y variables; it is not an SVHN cropped-digits file")
    x, y = mat["X"], np.asarray(mat["y"]).reshape(-1)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        raise DatasetError(f"{path}: X must be (32, 32, 3, N), got {x.shape}")
    if x.shape[3] != len(y):
        raise DatasetError(f"{path} holds {x.shape[3]} images but {len(y)} labels")
    labels = y.astype(np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() > 10):
        raise DatasetError(f"{path} has labels outside 0..10")
    labels[labels == 10] = 0
    images = np.ascontiguousarray(x.transpose(3, 2, 0, 1)).astype(np.uint8, copy=False)   # (H,W,C,N) -> (N,C,H,W)
    return ImageSet(torch.from_numpy(images), torch.from_numpy(labels), list(SVHN_CLASSES), f"svhn/{split}")
