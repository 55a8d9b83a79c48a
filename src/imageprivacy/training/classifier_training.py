"""One classifier training loop, used by ConfounderGAN's f and by every victim.

Images stay uint8 in memory and become float in [0, 1] one batch at a time on the device, so a
60k-image set costs 47 MB rather than 188 MB, and augmentation happens after any protection was
applied (never the other way round: an EMN-code bug, docs/background.md section 2).

Per batch: augment (kornia, by name) -> optional label mixing (`mix`) -> optional PGD adversarial
examples crafted against the same loss (`adversarial_epsilon` > 0) -> one SGD step. With mixing, PGD
maximises the soft-target loss of the mixed batch, i.e. it attacks exactly what is being trained.

Under torchrun each rank trains on its part of every batch through DDP (distributed.py says how the
batches are split and what BatchNorm then sees). Forward passes run under bf16 autocast on a GPU and on
a CPU with bf16 units, and batches reach a GPU through pinned memory (accelerator.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.errors import ConfigurationError
from imageprivacy.training import distributed
from imageprivacy.training.accelerator import channels_last, mixed_precision, to_device
from imageprivacy.training.adversarial import pgd_examples
from imageprivacy.training.augment import build_augmentation
from imageprivacy.training.mixing import MIXES, mix_batch


@dataclass
class TrainRecipe:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"                    # "cosine" (per step, to zero) or "constant"
    augment: tuple[str, ...] = ("crop", "flip")
    mix: str | None = None                      # None, "mixup" or "cutmix" (Beta(1, 1) mixing weight)
    adversarial_epsilon: float = 0.0            # L-inf PGD radius on [0, 1] pixels; 0 = standard training
    adversarial_steps: int = 10                 # PGD steps (step size 2.5 eps / steps)

    def __post_init__(self) -> None:
        # Fail at construction, not after an hour of data loading, and keep to_dict JSON-friendly.
        self.augment = tuple(self.augment)
        if self.mix is not None and self.mix not in MIXES:
            raise ConfigurationError(f"unknown label mixing {self.mix!r}; known: None, {', '.join(MIXES)}")
        if not 0.0 <= self.adversarial_epsilon <= 1.0:
            raise ConfigurationError(f"adversarial_epsilon must be in [0, 1] (pixel scale), "
                             f"got {self.adversarial_epsilon}")
        if self.adversarial_steps < 1:
            raise ConfigurationError(f"adversarial_steps must be >= 1, got {self.adversarial_steps}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainHistory:
    train_acc: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.test_acc:
            d["best_test_acc"] = max(self.test_acc)
            d["best_epoch"] = 1 + self.test_acc.index(max(self.test_acc))
            d["final_test_acc"] = self.test_acc[-1]
        return d


def _as_input(batch: torch.Tensor, device, inputs: str) -> torch.Tensor:
    """A stored batch as model input: uint8 images -> float [0, 1]; feature maps (maybe float16) -> float32."""
    x = to_device(batch, device).float()
    return x / 255.0 if inputs == "images" else x


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device, batch_size=512,
             inputs: str = "images") -> float:
    """Top-1 accuracy of `model` (eval mode) on uint8 images (or on feature maps, inputs="features")."""
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        x = _as_input(images[start:start + batch_size], device, inputs)
        with mixed_precision(device):       # test passes cost a third of training at 2k test images
            logits = model(x)
        correct += (logits.argmax(1).cpu() == labels[start:start + batch_size]).sum().item()
    return correct / max(1, len(images))


def train_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, recipe: TrainRecipe,
                     device="cpu", seed: int = 0, test: tuple[torch.Tensor, torch.Tensor] | None = None,
                     progress=None, inputs: str = "images",
                     after_epoch: Callable[[int, nn.Module], bool] | None = None) -> TrainHistory:
    """Train `model` in place on uint8 (N, C, H, W) images; test accuracy after every epoch.

    inputs="features" trains on float feature maps instead (DPF's phi3 and attackers): no image
    augmentation then, since a crop of a feature map is not the features of a cropped image.
    `after_epoch(epoch, model)` runs after every epoch (1-based, model in eval mode); True stops training
    there (early stopping, training.early_stopping). It sees the same weights on every rank.
    """
    if inputs not in ("images", "features"):
        raise ConfigurationError(f"inputs must be 'images' or 'features', got {inputs!r}")
    if inputs == "features" and recipe.augment:
        raise ConfigurationError(f"image augmentations {recipe.augment} do not apply to feature maps")
    device = torch.device(device)
    model.to(device)
    with channels_last(model):          # before DDP wraps it: DDP keeps the parameters it was given
        return _train(model, images, labels, recipe, device, seed, test, progress, inputs, after_epoch)


def _train(model, images, labels, recipe, device, seed, test, progress, inputs, after_epoch) -> TrainHistory:
    gen = torch.Generator().manual_seed(seed)
    # Augmentations, mixing weights and PGD starts come from the global generator. Rank r seeds it with
    # seed + r, or every rank would crop its i-th image exactly as every other rank does; rank 0 (and
    # one process) keeps the seed's own stream. The weights do not depend on it: DDP starts every rank
    # from rank 0's (distributed.wrap).
    torch.manual_seed(seed + distributed.world().rank)
    augment = build_augmentation(recipe.augment, tuple(images.shape[2:])).to(device)
    net = distributed.wrap(model)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    # rank_batches keeps this count under torchrun, so the schedule is one process's.
    steps_per_epoch = math.ceil(len(images) / recipe.batch_size)
    total = max(1, recipe.epochs * steps_per_epoch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, (lambda s: 0.5 * (1 + math.cos(math.pi * s / total))) if recipe.schedule == "cosine" else (lambda s: 1.0))
    history = TrainHistory()
    for epoch in range(recipe.epochs):
        model.train()
        order = torch.randperm(len(images), generator=gen)
        seen = correct = 0
        loss_sum = 0.0
        for idx in distributed.rank_batches(order, recipe.batch_size):
            x = augment(_as_input(images[idx], device, inputs))
            y = to_device(labels[idx], device)
            with mixed_precision(device):
                if recipe.mix:
                    mixed = mix_batch(recipe.mix, x, y)
                    x, loss_fn, y = mixed.images, mixed.loss, mixed.dominant_labels
                else:
                    loss_fn = partial(F.cross_entropy, target=y)
                if recipe.adversarial_epsilon > 0:
                    # The bare model: PGD takes input gradients only, nothing for DDP to average.
                    x = pgd_examples(model, x, loss_fn, recipe.adversarial_epsilon, recipe.adversarial_steps)
                logits = net(x)
                loss = loss_fn(logits)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            loss_sum += loss.item() * len(idx)
        seen, correct, loss_sum = distributed.all_sum([seen, correct, loss_sum])
        history.train_acc.append(correct / seen)
        history.train_loss.append(loss_sum / seen)
        # Every rank evaluates the whole test set with the same weights and rank 0's running statistics.
        distributed.share_rank0_buffers(model)
        if test is not None:
            history.test_acc.append(accuracy(model, test[0], test[1], device, inputs=inputs))
        if progress:
            progress("epoch", {"epoch": epoch + 1, "epochs": recipe.epochs, "train_acc": history.train_acc[-1],
                               "test_acc": history.test_acc[-1] if history.test_acc else None})
        if after_epoch is not None:
            model.eval()
            if after_epoch(epoch + 1, model):
                break
    model.eval()
    return history
