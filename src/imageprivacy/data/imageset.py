"""The image-set type every loader returns: uint8 images (N, C, H, W), optional labels, class names."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from imageprivacy.errors import ConfigurationError, InputRangeError, InputShapeError, MissingLabelsError


@dataclass
class ImageSet:
    """A labelled (or unlabelled) image collection held in memory as uint8.

    uint8 is the storage format on purpose: it is what files hold, it is 4x smaller than float,
    and protections must respect their budget on the 8-bit pixels a user actually writes.
    """

    images: torch.Tensor                      # uint8, (N, C, H, W)
    labels: torch.Tensor | None = None        # int64, (N,), or None for unlabeled data
    class_names: list[str] = field(default_factory=list)
    name: str = "images"

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8:
            raise InputRangeError(f"ImageSet.images must be uint8, got {self.images.dtype}")
        if self.images.dim() != 4:
            raise InputShapeError(f"ImageSet.images must be (N, C, H, W), got {tuple(self.images.shape)}")
        if self.labels is not None:
            self.labels = torch.as_tensor(self.labels, dtype=torch.int64)
            if self.labels.shape != (self.images.shape[0],):
                raise InputShapeError(f"ImageSet.labels must have shape ({self.images.shape[0]},), "
                                      f"got {tuple(self.labels.shape)}")
        if not self.class_names and self.labels is not None and len(self.labels):
            self.class_names = [str(i) for i in range(int(self.labels.max()) + 1)]

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def image_size(self) -> tuple[int, int]:
        return self.images.shape[2], self.images.shape[3]

    def require_labels(self, why: str) -> torch.Tensor:
        if self.labels is None:
            raise MissingLabelsError(f"{self.name} has no labels, but {why} needs them")
        return self.labels

    def float(self) -> torch.Tensor:
        """Images as float32 in [0, 1]."""
        return self.images.float() / 255.0

    def subset(self, indices) -> "ImageSet":
        idx = torch.as_tensor(indices, dtype=torch.int64)
        labels = None if self.labels is None else self.labels[idx]
        return ImageSet(self.images[idx], labels, list(self.class_names), self.name)

    def with_images(self, images: torch.Tensor, name: str | None = None) -> "ImageSet":
        """Same labels and classes, new pixels (e.g. the protected copy)."""
        return ImageSet(images, self.labels, list(self.class_names), name or self.name)

    @staticmethod
    def concat(parts: list["ImageSet"], name: str | None = None) -> "ImageSet":
        """One set from several with the same classes and image shape (e.g. protected + natural parts)."""
        if not parts:
            raise ConfigurationError("concat needs at least one ImageSet")
        shapes = {tuple(p.images.shape[1:]) for p in parts}
        if len(shapes) > 1:
            raise InputShapeError(f"cannot concatenate images of shapes {sorted(shapes)}")
        labels = None if any(p.labels is None for p in parts) else torch.cat([p.labels for p in parts])
        return ImageSet(torch.cat([p.images for p in parts]), labels, list(parts[0].class_names),
                        name or parts[0].name)

    def shuffled_indices(self, seed: int) -> torch.Tensor:
        return torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))

    def random_subset(self, n: int, seed: int) -> "ImageSet":
        """n images drawn without replacement, reproducible from `seed`."""
        if n >= len(self):
            return self
        return self.subset(self.shuffled_indices(seed)[:n].sort().values)

    def split(self, fraction: float, seed: int) -> tuple["ImageSet", "ImageSet"]:
        """Seeded split into (first `fraction`, rest); both parts keep the class list."""
        if not 0.0 < fraction < 1.0:
            raise ConfigurationError(f"fraction must be in (0, 1), got {fraction}")
        order = self.shuffled_indices(seed)
        k = int(round(fraction * len(self)))
        return self.subset(order[:k].sort().values), self.subset(order[k:].sort().values)
