"""Label-mixing augmentations, MixUp (Zhang et al. 2018) and CutMix (Yun et al. 2019), by name.

Both pair each image of a batch with a random other image of the same batch (a permutation) and
mix the one-hot labels in the same proportion lam ~ Beta(alpha, alpha), one lam per batch as in
both papers' reference code. Training then minimises cross entropy against the soft targets, and
train accuracy counts the argmax against the dominant label (the one with weight >= 0.5).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from imageprivacy.errors import ConfigurationError

MIX_ALPHA = 1.0          # both papers' CIFAR setting; ConfounderGAN's Table 2 gives no other
MIXES = ("mixup", "cutmix")


@dataclass
class MixedBatch:
    images: torch.Tensor         # float (N, C, H, W) in [0, 1]
    labels_a: torch.Tensor       # each image's own label
    labels_b: torch.Tensor       # the label of the image mixed into it
    lam: float                   # weight of labels_a (for CutMix: the kept area fraction)

    def soft_targets(self, num_classes: int) -> torch.Tensor:
        return (self.lam * F.one_hot(self.labels_a, num_classes).float()
                + (1.0 - self.lam) * F.one_hot(self.labels_b, num_classes).float())

    def loss(self, logits: torch.Tensor) -> torch.Tensor:
        """Soft-target cross entropy (F.cross_entropy takes class probabilities as targets)."""
        return F.cross_entropy(logits, self.soft_targets(logits.shape[1]))

    @property
    def dominant_labels(self) -> torch.Tensor:
        return self.labels_a if self.lam >= 0.5 else self.labels_b


def _cutmix_box(h: int, w: int, lam: float) -> tuple[int, int, int, int]:
    """A box of area about (1 - lam) h w, centre uniform, clipped to the image (Yun et al.)."""
    cut = math.sqrt(1.0 - lam)
    bh, bw = int(h * cut), int(w * cut)
    cy, cx = torch.randint(0, h, ()).item(), torch.randint(0, w, ()).item()
    return max(cy - bh // 2, 0), min(cy + bh // 2, h), max(cx - bw // 2, 0), min(cx + bw // 2, w)


def mix_batch(kind: str, images: torch.Tensor, labels: torch.Tensor, alpha: float = MIX_ALPHA) -> MixedBatch:
    """Mix a float batch with a permutation of itself ("mixup" or "cutmix")."""
    if kind not in MIXES:
        raise ConfigurationError(f"unknown label mixing {kind!r}; known: {', '.join(MIXES)}")
    if alpha <= 0:
        raise ConfigurationError(f"mixing alpha must be > 0, got {alpha}")
    # lam and the box come from the CPU generator, seeded by train_classifier like everything else.
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(len(images)).to(images.device)
    other = images[perm]
    if kind == "mixup":
        mixed = lam * images + (1.0 - lam) * other
    else:
        h, w = images.shape[2:]
        y0, y1, x0, x1 = _cutmix_box(h, w, lam)
        mixed = images.clone()
        mixed[:, :, y0:y1, x0:x1] = other[:, :, y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)      # the pasted area, after clipping, sets the label
    return MixedBatch(mixed, labels, labels[perm], lam)
