"""An ImageSet whose images carry named binary attributes (CelebA's 40 face attributes), not one class label.

`labels` stays None: a multi-label set has no single class, so verbs that need one fail with
MissingLabelsError instead of training on an arbitrary attribute. The attributes travel through
`subset` (and so through `random_subset` and `split`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError, InputShapeError


@dataclass
class AttributeImageSet(ImageSet):
    attributes: torch.Tensor | None = None          # int64 (N, A), 0 or 1
    attribute_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.attributes is None:
            self.attributes = torch.zeros((len(self), len(self.attribute_names)), dtype=torch.int64)
        self.attributes = torch.as_tensor(self.attributes, dtype=torch.int64)
        if self.attributes.shape != (len(self), len(self.attribute_names)):
            raise InputShapeError(f"attributes must be ({len(self)}, {len(self.attribute_names)}), "
                                  f"got {tuple(self.attributes.shape)}")

    def attribute(self, name: str) -> torch.Tensor:
        """(N,) 0/1 values of one attribute by name; DatasetError naming the known ones otherwise."""
        if name not in self.attribute_names:
            raise DatasetError(f"{self.name} has no attribute {name!r}; it has: {', '.join(self.attribute_names)}")
        return self.attributes[:, self.attribute_names.index(name)]

    def subset(self, indices) -> "AttributeImageSet":
        idx = torch.as_tensor(indices, dtype=torch.int64)
        labels = None if self.labels is None else self.labels[idx]
        return AttributeImageSet(self.images[idx], labels, list(self.class_names), self.name,
                                 self.attributes[idx], list(self.attribute_names))

    def with_images(self, images: torch.Tensor, name: str | None = None) -> "AttributeImageSet":
        return AttributeImageSet(images, self.labels, list(self.class_names), name or self.name,
                                 self.attributes, list(self.attribute_names))
