"""Training-time augmentations by name (kornia), shared by every classifier the package trains."""
from __future__ import annotations

import kornia.augmentation as K
from torch import nn

AUGMENTATIONS = {
    "crop": lambda size: K.RandomCrop(size, padding=4),
    "flip": lambda size: K.RandomHorizontalFlip(),
}


def build_augmentation(names: tuple[str, ...] | list[str], size: tuple[int, int]) -> nn.Module:
    """A kornia pipeline applying the named augmentations in order (identity when empty)."""
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; known: {sorted(AUGMENTATIONS)}")
    return nn.Sequential(*[AUGMENTATIONS[n](size) for n in names])
