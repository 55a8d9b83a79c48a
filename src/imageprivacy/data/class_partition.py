"""A private / public split by classes (DPF paper, section 4.1), each with train and validation parts.

The private set S holds the classes whose images must not be shared; the public set Q (the
attacker's own data) holds the rest. Both come from the data set's train split (train parts) and
its test split (validation parts), so no image is in two parts. Labels are renumbered 0..k-1 in
the order the classes are given; every part keeps the index of each image in the split it came
from (`ids`), which is what a feature release publishes instead of the images.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError

FASHION_MNIST_PRIVATE = (0, 1, 2, 3, 4)       # T-shirt/top, Trouser, Pullover, Dress, Coat


@dataclass
class ClassPart:
    """Images of some classes (labels renumbered), with their indices in the source split."""
    images: ImageSet
    ids: torch.Tensor            # int64 (N,), index of each image in `source`
    source: str                  # e.g. "fashion-mnist/train"

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class ClassPartition:
    private_train: ClassPart
    private_val: ClassPart
    public_train: ClassPart
    public_val: ClassPart
    private_classes: tuple[int, ...]
    public_classes: tuple[int, ...]

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in
                ("private_train", "private_val", "public_train", "public_val")}


def select_classes(data: ImageSet, classes: tuple[int, ...], size: int | None, seed: int) -> ClassPart:
    """Images of `classes` (at most `size`, a seeded draw), labels renumbered 0..len(classes)-1."""
    labels = data.require_labels("a split by classes")
    keep = torch.zeros(len(data), dtype=torch.bool)
    for c in classes:
        keep |= labels == c
    ids = torch.nonzero(keep).flatten()
    if size is not None and size < len(ids):
        pick = torch.randperm(len(ids), generator=torch.Generator().manual_seed(seed))[:size]
        ids = ids[pick].sort().values
    renumber = torch.full((max(int(labels.max()) + 1, max(classes) + 1),), -1, dtype=torch.int64)
    renumber[torch.tensor(classes)] = torch.arange(len(classes))
    names = [data.class_names[c] if c < len(data.class_names) else str(c) for c in classes]
    part = ImageSet(data.images[ids], renumber[labels[ids]], names, data.name)
    return ClassPart(part, ids, data.name)


def partition_by_classes(train: ImageSet, val: ImageSet, private_classes: tuple[int, ...] = FASHION_MNIST_PRIVATE,
                         public_classes: tuple[int, ...] | None = None,
                         sizes: tuple[int | None, int | None, int | None, int | None] = (None, None, None, None),
                         seed: int = 0) -> ClassPartition:
    """S and Q from a train and a validation split.

    `public_classes` None means every class not private. `sizes` caps (private_train, private_val,
    public_train, public_val); None keeps all. Each part is drawn with its own seed offset.
    """
    num_classes = max(train.num_classes, val.num_classes)
    private = tuple(int(c) for c in private_classes)
    public = tuple(c for c in range(num_classes) if c not in private) if public_classes is None \
        else tuple(int(c) for c in public_classes)
    for name, classes in (("private", private), ("public", public)):
        if not classes or len(set(classes)) != len(classes) or min(classes) < 0 or max(classes) >= num_classes:
            raise DatasetError(f"{name} classes {classes} must be distinct classes in 0..{num_classes - 1}")
    if set(private) & set(public):
        raise DatasetError(f"classes {sorted(set(private) & set(public))} are both private and public")
    parts = [select_classes(data, classes, size, seed + offset) for offset, (data, classes, size) in
             enumerate([(train, private, sizes[0]), (val, private, sizes[1]),
                        (train, public, sizes[2]), (val, public, sizes[3])])]
    for part, what in zip(parts, ("private train", "private validation", "public train", "public validation")):
        if len(part) == 0:
            raise DatasetError(f"the {what} part is empty: no image of its classes in {part.source}")
    return ClassPartition(*parts, private_classes=private, public_classes=public)
