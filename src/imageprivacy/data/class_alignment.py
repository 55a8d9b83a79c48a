"""Match the classes of a (protected) image folder with those of a test set.

A folder written from a data set names its subfolders by class index ("0".."9") or by a file-safe
class name ("T-shirt-top" for "T-shirt/top"); a victim's labels must mean the test set's classes.
"""
from __future__ import annotations

import re

import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError


def folder_name(class_name: str) -> str:
    """The file-safe name a class gets as a folder: anything but letters, digits, '-', '_' becomes '-'."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", class_name).strip("-") or "class"


def align_to(train: ImageSet, test: ImageSet) -> ImageSet:
    """`train` relabelled so that its label k means the test set's class k."""
    if train.class_names == test.class_names:
        return train
    by_index = {str(i): i for i in range(test.num_classes)}
    by_name = {folder_name(n).lower(): i for i, n in enumerate(test.class_names)}
    mapping = []
    for name in train.class_names:
        target = by_index.get(name, by_name.get(folder_name(name).lower()))
        if target is None:
            raise DatasetError(f"class {name!r} of {train.name} is not a class of {test.name} "
                               f"({test.class_names}); name class folders by index or by class name")
        mapping.append(target)
    labels = torch.as_tensor(mapping)[train.require_labels("class alignment")]
    return ImageSet(train.images, labels, list(test.class_names), train.name)
