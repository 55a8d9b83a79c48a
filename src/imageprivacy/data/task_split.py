"""One seeded split of a data set into defender / attacker / test parts, shared by every stage of a run.

- defender: trains the obfuscator, its classifier and the simulated adversaries (pretraining and
  Algorithm 1), and the baselines;
- attacker: the attacker's own queries: fresh attackers are trained on it, never on defender images;
- test: every number is measured on it. It comes from the data set's test split.
Defender and attacker are disjoint seeded draws from the train split. With class groups that cover
only some classes, images of the other classes are left out of every part. The authors' code drew a new
unseeded split per stage, so test images trained later stages (docs/background.md section 2); here the split
is made once, its image ids are written to the run folder, and `training_part` refuses any part
that shares an image with the test part (DataLeakError).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch

from imageprivacy.data.attribute_task import LabelSet, is_group_spec, resolve_labels
from imageprivacy.data.class_groups import grouped_classes, parse_groups
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DataLeakError, DatasetError

ROLES = ("defender", "attacker", "test")


@dataclass
class TaskPart:
    role: str
    images: torch.Tensor          # uint8 (N, C, H, W)
    task: torch.Tensor            # int64 (N,)
    private: torch.Tensor         # int64 (N,)
    ids: torch.Tensor             # int64 (N,), index of each image in `source`
    source: str                   # e.g. "fashion-mnist/train"

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class TaskSplit:
    defender: TaskPart
    attacker: TaskPart
    test: TaskPart
    task: LabelSet                # names and attributes (labels: those of the test part)
    private: LabelSet

    def __post_init__(self) -> None:
        for a, b in ((self.defender, self.attacker), (self.defender, self.test), (self.attacker, self.test)):
            _check_disjoint(a, b)

    def training_part(self, role: str) -> TaskPart:
        """The part a training stage may use; DataLeakError for the test part or one that overlaps it."""
        part = getattr(self, role, None) if role in ROLES else None
        if part is None or role == "test":
            raise DataLeakError(f"training stages use the defender or attacker part, not {role!r}")
        _check_disjoint(part, self.test)
        return part

    def sizes(self) -> dict[str, int]:
        return {role: len(getattr(self, role)) for role in ROLES}

    def digest(self) -> str:
        """A fingerprint of which images are where: evaluate checks it is the split train used."""
        h = hashlib.sha256()
        for role in ROLES:
            part = getattr(self, role)
            h.update(f"{role}:{part.source}:".encode())
            h.update(part.ids.numpy().tobytes())
        return h.hexdigest()[:16]


def _check_disjoint(a: TaskPart, b: TaskPart) -> None:
    if a.source == b.source:
        shared = set(a.ids.tolist()) & set(b.ids.tolist())
        if shared:
            raise DataLeakError(f"{len(shared)} image(s) of {a.source} are in both the {a.role} and the {b.role} "
                                f"part (e.g. index {min(shared)})")


def _eligible(data: ImageSet, specs: tuple[str, str]) -> torch.Tensor:
    """Indices of the images every spec can label: class groups may cover only some classes."""
    keep = torch.ones(len(data), dtype=torch.bool)
    for spec in specs:
        if is_group_spec(spec):
            classes = torch.tensor(grouped_classes(parse_groups(spec)))
            keep &= torch.isin(data.require_labels(f"class groups {spec}"), classes)
    return torch.nonzero(keep).flatten()


def _labelled(data: ImageSet, task_spec: str, private_spec: str) -> tuple[torch.Tensor, LabelSet, LabelSet]:
    """(eligible indices, task labels, private labels), the labels aligned with the indices."""
    ids = _eligible(data, (task_spec, private_spec))
    kept = data if len(ids) == len(data) else data.subset(ids)      # no copy of a whole (CelebA-sized) split
    return ids, resolve_labels(kept, task_spec), resolve_labels(kept, private_spec)


def _part(role: str, data: ImageSet, labelled, positions: torch.Tensor) -> TaskPart:
    ids, task, private = labelled
    positions = positions.sort().values
    return TaskPart(role, data.images[ids[positions]], task.labels[positions], private.labels[positions],
                    ids[positions], data.name)


def split_task(train: ImageSet, test: ImageSet, task_spec: str, private_spec: str,
               sizes: tuple[int | None, int | None, int | None], seed: int) -> TaskSplit:
    """(defender, attacker, test) of at most `sizes` images each.

    None means all: the defender takes half the train split, the attacker the rest, the test part all of
    the test split.
    """
    if train.name == test.name or (train.images.shape == test.images.shape and torch.equal(train.images, test.images)):
        raise DatasetError(f"{train.name}: the test split holds the training images; give a data set with separate "
                           f"train and test splits (image folders: DATA/train and DATA/test)")
    train_labelled = _labelled(train, task_spec, private_spec)
    test_labelled = _labelled(test, task_spec, private_spec)
    n_train, n_test_all = len(train_labelled[0]), len(test_labelled[0])
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(seed))
    n_def = min(sizes[0] or n_train // 2, n_train - 1)
    n_att = min(sizes[1] or n_train - n_def, n_train - n_def)
    test_order = torch.randperm(n_test_all, generator=torch.Generator().manual_seed(seed + 1))
    n_test = min(sizes[2] or n_test_all, n_test_all)
    if min(n_def, n_att, n_test) < 1:
        raise DatasetError(f"the split of {train.name} ({n_train} usable) / {test.name} ({n_test_all} usable) "
                           f"leaves a part empty")
    return TaskSplit(_part("defender", train, train_labelled, order[:n_def]),
                     _part("attacker", train, train_labelled, order[n_def:n_def + n_att]),
                     _part("test", test, test_labelled, test_order[:n_test]),
                     test_labelled[1], test_labelled[2])
