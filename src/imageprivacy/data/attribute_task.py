"""The intended task and the private attribute of a data set, as one categorical label each.

A spec string says where the labels come from:
- class groups `0,2,4,6/1,3/5,7,9/8`: the group of the fine class (Fashion-MNIST's tops / bottoms /
  footwear / bags, data.class_groups);
- `class`: the fine class itself;
- attribute names `Smiling` or `Smiling,High_Cheekbones` (CelebA): k binary attributes become one
  label with 2**k values, bit i = attribute i. A softmax over 2 values is the paper's sigmoid + BCE
  (eq. 1 and 3) for one attribute; for several it models them jointly, and accuracy is still
  reported per attribute (`label_accuracy`), as the paper's Fig. 7 does.
Defaults: Fashion-MNIST task = its groups, private = class (guessing ~0.40); CelebA task = Smiling,
private = Male (the authors' code).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from imageprivacy.data.attribute_images import AttributeImageSet
from imageprivacy.data.class_groups import GROUPINGS, format_groups, group_labels, parse_groups
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError, MissingLabelsError

FINE_CLASS = "class"
DEFAULT_SPECS = {"fashion-mnist": (format_groups(GROUPINGS["fashion-mnist"].groups), FINE_CLASS),
                 "celeba": ("Smiling", "Male")}


@dataclass
class LabelSet:
    spec: str
    labels: torch.Tensor                 # int64 (N,)
    names: list[str]                     # one per label value
    attributes: tuple[str, ...] = ()     # bit i of a label is attributes[i]; () for classes and groups

    @property
    def num_classes(self) -> int:
        return len(self.names)


def default_specs(data_name: str) -> tuple[str, str] | None:
    """(task, private) a data set gets when none is given; None when it has no default."""
    return DEFAULT_SPECS.get(str(data_name).strip().lower())


def is_group_spec(spec: str) -> bool:
    """True for class groups such as 0,2,4,6/1,3/5,7,9/8 (or one group, 0,1,2)."""
    return "/" in spec or spec.replace(",", "").strip().isdigit()


def resolve_labels(data: ImageSet, spec: str) -> LabelSet:
    """The labels `spec` names on `data`; DatasetError / MissingLabelsError when the data lacks them."""
    spec = spec.strip()
    if spec == FINE_CLASS:
        return LabelSet(spec, data.require_labels("a private or task label 'class'"), list(data.class_names))
    if is_group_spec(spec):
        groups = parse_groups(spec)
        fine = data.require_labels(f"class groups {spec}")
        named = GROUPINGS.get(data.name.split("/")[0])            # e.g. "fashion-mnist/train" -> its grouping
        names = list(named.names) if named and named.groups == groups else [f"group{g}" for g in range(len(groups))]
        return LabelSet(format_groups(groups), group_labels(fine, groups), names)
    if not isinstance(data, AttributeImageSet):
        raise MissingLabelsError(f"{data.name} has no named attributes, so {spec!r} cannot be a task or private "
                                 f"attribute; use 'class' or class groups such as 0,2,4,6/1,3/5,7,9/8")
    attributes = tuple(a.strip() for a in spec.split(",") if a.strip())
    if len(attributes) > 6:
        raise DatasetError(f"at most 6 attributes per label (2**k values), got {len(attributes)}")
    joint = torch.zeros(len(data), dtype=torch.int64)
    for bit, name in enumerate(attributes):
        joint |= data.attribute(name) << bit
    names = [",".join(f"{a}={(v >> b) & 1}" for b, a in enumerate(attributes)) for v in range(2 ** len(attributes))]
    return LabelSet(",".join(attributes), joint, names, attributes)


def label_accuracy(predicted: torch.Tensor, true: torch.Tensor, attributes: tuple[str, ...] = ()) -> dict:
    """{"accuracy": headline, "exact": exact match, "per_attribute": {...}}.

    The headline is the exact-match accuracy for classes and groups, and the mean per-attribute
    accuracy for attributes (for one attribute the two agree).
    """
    predicted, true = predicted.long().cpu(), true.long().cpu()
    exact = (predicted == true).float().mean().item() if len(true) else 0.0
    per = {a: (((predicted >> b) & 1) == ((true >> b) & 1)).float().mean().item()
           for b, a in enumerate(attributes)} if len(true) else {}
    return {"accuracy": sum(per.values()) / len(per) if per else exact, "exact": exact, "per_attribute": per}


def guessing_level(task_train: torch.Tensor, private_train: torch.Tensor, task_test: torch.Tensor,
                   private_test: torch.Tensor, attributes: tuple[str, ...] = ()) -> dict:
    """How well the private label is guessed from the task label alone: the floor any attacker reaches.

    In each task value, guess the private value commonest there in the training labels; scored on
    the test labels like an attacker. Also the uniform guess and the overall majority.
    """
    overall = torch.bincount(private_train).argmax()
    guess_of = {}
    for value in task_train.unique().tolist():
        guess_of[value] = torch.bincount(private_train[task_train == value]).argmax()
    guesses = torch.stack([guess_of.get(v, overall) for v in task_test.tolist()]) if len(task_test) \
        else torch.zeros(0, dtype=torch.int64)
    num_private = int(max(private_train.max(), private_test.max())) + 1
    return {"given_task": label_accuracy(guesses, private_test, attributes)["accuracy"],
            "majority": label_accuracy(overall.expand(len(private_test)), private_test, attributes)["accuracy"],
            "uniform": 0.5 if attributes else 1.0 / num_private}
