"""A classifier trained from scratch on the generator's own outputs: the EMN objective amortized in G.

The paper's confounder loss reads the noise through f, a classifier pretrained on clean images and
frozen. Noise that satisfies such an f is noise that looks like the class to a model that already
knows the class: measured at 60k, the patterns it learns correlate with the class means (cosine up to
0.68, and template matching with them reads 27 % of the clean test images against 7 % for random signs,
docs/results/pattern-alignment/align_60k.json). A shortcut aligned with the real features teaches a
victim part of the real task.

Here the reader starts from nothing and learns, alternately with G, on x + G(x) under the victims'
augmentations (random crop, flip): G then minimises the error of a model in the middle of learning
from protected images, which is what an unauthorized trainer is (Segue's amortized min-min, the
EMN objective of error_minimizing_noise.py with one generator for all images instead of one
descent per image). The surrogate's weights are not kept: only G's are.

Measured, it does not fix the alignment (docs/results.md): at 60k its patterns matched 32 % of the
test images and left a victim at 0.355 where f's left 0.252. Hence surrogate_weight 0 by default.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from imageprivacy.nets import build_net
from imageprivacy.training import distributed
from imageprivacy.training.accelerator import mixed_precision
from imageprivacy.training.augment import build_augmentation


class ScratchSurrogate:
    """`step(protected, t)` trains it one SGD step; `error(protected, t)` is the loss G minimises."""

    def __init__(self, arch: str, width: int | None, channels: int, num_classes: int, size: tuple[int, int],
                 lr: float, augment: tuple[str, ...], device):
        self.device = device
        self.net = build_net(arch, channels, num_classes, width=width, image_size=size).to(device)
        # The paper-recipe victim's optimiser at a constant rate (attacks/unlearnable/victim.py): the
        # surrogate should learn as such a victim does in its first epochs.
        self.opt = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        self.augment = build_augmentation(augment, size).to(device)
        self.trained = distributed.wrap(self.net)

    def step(self, protected: torch.Tensor, t: torch.Tensor) -> float:
        """One step on the detached protected batch; returns the surrogate's accuracy on it."""
        self.net.train().requires_grad_(True)
        with mixed_precision(self.device):
            logits = self.trained(self.augment(protected.detach()))
        loss = F.cross_entropy(logits.float(), t)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
        self.opt.step()
        return (logits.argmax(1) == t).float().mean().item()

    def error(self, protected: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """CE of the surrogate on (augmented) protected images, differentiable in the noise only.

        The bare net, frozen for this pass: the gradient G needs flows through it, and the net itself
        learns only in `step` (under DDP each rank's G gradient is averaged by G's own wrapper)."""
        self.net.requires_grad_(False)
        with mixed_precision(self.device):
            logits = self.net(self.augment(protected))
        return F.cross_entropy(logits.float(), t)
