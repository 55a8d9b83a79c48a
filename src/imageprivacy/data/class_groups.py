"""Coarse groups of fine classes: the one place where a grouping such as Fashion-MNIST's is defined.

A grouping turns a fine-class data set into a coarse task whose fine class is what must stay private:
DPF's section 4.4 variant and DeepObfuscator's Fashion-MNIST analogue of CelebA both use it.
Groups are written `0,2,4,6/1,3/5,7,9/8` on the command line (classes by index, groups split by '/').
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch

from imageprivacy.errors import ConfigurationError, DatasetError

Groups = tuple[tuple[int, ...], ...]


def check_groups(groups: Groups) -> Groups:
    """`groups` if every group is non-empty and no class is in two groups; DatasetError otherwise."""
    if not groups or any(not g for g in groups):
        raise DatasetError(f"class groups {groups} must be non-empty groups of class indices")
    seen = [c for g in groups for c in g]
    if len(seen) != len(set(seen)) or min(seen) < 0:
        repeated = sorted(c for c, n in Counter(seen).items() if n > 1)
        raise DatasetError(f"class groups {groups}: classes must be distinct indices >= 0 (repeated: {repeated})")
    return groups


@dataclass(frozen=True)
class ClassGrouping:
    groups: Groups
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.groups):
            raise ConfigurationError(f"{len(self.groups)} groups but {len(self.names)} names")
        check_groups(self.groups)


# Tops = T-shirt, Pullover, Coat, Shirt; bottoms = Trouser, Dress; footwear = Sandal, Sneaker, Ankle boot; bags.
FASHION_MNIST_GROUPING = ClassGrouping(((0, 2, 4, 6), (1, 3), (5, 7, 9), (8,)),
                                       ("tops", "bottoms", "footwear", "bags"))
FASHION_MNIST_GROUPS: Groups = FASHION_MNIST_GROUPING.groups

# Named groupings by data set name (the registry's canonical names).
GROUPINGS: dict[str, ClassGrouping] = {"fashion-mnist": FASHION_MNIST_GROUPING}


def parse_groups(text: str) -> Groups:
    """'0,2,4,6/1,3/5,7,9/8' -> ((0, 2, 4, 6), (1, 3), (5, 7, 9), (8,)); ValueError on anything else."""
    try:
        groups = tuple(tuple(int(c) for c in g.split(",") if c.strip()) for g in text.split("/"))
    except ValueError:
        raise ConfigurationError(f"not class groups: {text!r} (write 0,2,4,6/1,3/5,7,9/8)") from None
    return check_groups(groups)


def format_groups(groups: Groups) -> str:
    """The inverse of parse_groups."""
    return "/".join(",".join(str(c) for c in g) for g in groups)


def group_labels(fine: torch.Tensor, groups: Groups, classes: tuple[int, ...] | None = None) -> torch.Tensor:
    """The group index of each fine label; with `classes`, fine labels are indices into `classes`.

    A fine label in no group is a DatasetError, not a silent -1.
    """
    check_groups(groups)
    classes = tuple(classes) if classes is not None else tuple(range(max(c for g in groups for c in g) + 1))
    lookup = torch.full((len(classes),), -1, dtype=torch.int64)
    for g, group in enumerate(groups):
        for c in group:
            if c in classes:
                lookup[classes.index(c)] = g
    fine = torch.as_tensor(fine, dtype=torch.int64)
    if len(fine) and (fine.min() < 0 or fine.max() >= len(lookup) or (lookup[fine] < 0).any()):
        raise DatasetError(f"fine labels {sorted(set(fine.tolist()))[:12]} are not all in the groups {groups}")
    return lookup[fine]


def grouped_classes(groups: Groups) -> tuple[int, ...]:
    """Every class of the groups, sorted."""
    return tuple(sorted(c for g in groups for c in g))
