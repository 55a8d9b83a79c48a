"""Fit the mixture generator's selector to the labels of the images it will protect.

Why a stage of its own: a victim trained on protected images learns the real task from exactly the
images whose noise names another class. Class-wise noise given a wrong class for 2.8 % of the images
still protects, for 8.8 % it does not (docs/background.md, section 1); the selector trained only
through the paper's losses agreed with the labels for 0.86-0.91 of its own training images
(docs/results.md). So after the GAN game the selector (its encoder and head; the patterns stay as
the game left them) is trained on CE(selector(x), label) until it agrees with `target` of the
labels, or for `epochs` at most: in-distribution protection is fitting, not generalising.

Under torchrun the selector trains through DDP on each rank's part of every batch, and the agreement
is counted over the ranks' shards and summed, so every rank stops after the same epoch
(training/distributed.py). The training steps run under the loops' bf16 autocast where it is on
(training/accelerator.py); the agreement that decides when to stop is counted in float32, as `protect`
chooses patterns.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.training import distributed
from imageprivacy.training.accelerator import channels_last, mixed_precision, to_device


@torch.no_grad()
def selector_agreement(generator: nn.Module, images: torch.Tensor, labels: torch.Tensor, device,
                       batch_size: int = 512) -> float:
    """Share of uint8 `images` whose selected pattern (eval mode, as `protect` picks it) is their label's."""
    generator.eval()
    hits = 0
    for idx in distributed.shard(torch.arange(len(images)), pad=False).split(batch_size):
        x = to_device(images[idx], device).float() / 255.0
        hits += (generator.mixing_logits(x).argmax(1).cpu() == labels[idx]).sum().item()
    return distributed.all_sum([hits])[0] / max(1, len(images))


def fit_selector(generator: nn.Module, images: torch.Tensor, labels: torch.Tensor, epochs: int, lr: float,
                 target: float, batch_size: int, device, seed: int, progress, augment: nn.Module | None = None) -> dict:
    """Train the selector (not the patterns) on the labels; stop once its agreement reaches `target`.

    `augment` (training/augment.py) transforms each training batch, so that the selector may generalise to
    images it never saw; the agreement that stops the fit is counted on the images as they are protected.

    Adam with a one-cycle schedule over `epochs`; agreement is checked after every epoch from the
    second half on (a full pass costs a third of an epoch). Returns the stage's record.
    """
    params = [p for name, p in generator.named_parameters() if name != "patterns"]
    agreement = selector_agreement(generator, images, labels, device)
    record = {"epochs": [], "target": target, "agreement_before": agreement}
    if epochs <= 0 or agreement >= target:
        return {**record, "agreement": agreement, "reached": agreement >= target}
    steps = epochs * math.ceil(len(images) / batch_size)
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    # The patterns are not trained here and take no part in the selector's logits: frozen for the stage,
    # as DDP needs every parameter it holds to get a gradient in every step (and left as found: pattern_lr 0
    # keeps them frozen for good).
    learns_patterns = generator.patterns.requires_grad
    generator.patterns.requires_grad_(False)
    try:
        with channels_last(generator):      # before DDP wraps it (training/classifier_training.py)
            selector = distributed.wrap(generator, "mixing_logits")
            for epoch in range(epochs):
                generator.train()
                loss_sum, seen = 0.0, 0
                for idx in distributed.rank_batches(torch.randperm(len(images), generator=gen), batch_size):
                    x = to_device(images[idx], device).float() / 255.0
                    if augment is not None:
                        x = augment(x)
                    with mixed_precision(device):
                        loss = F.cross_entropy(selector(x), to_device(labels[idx], device))
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    loss_sum, seen = loss_sum + loss.item() * len(idx), seen + len(idx)
                loss_sum, seen = distributed.all_sum([loss_sum, seen])
                distributed.share_rank0_buffers(generator)
                row = {"epoch": epoch + 1, "loss": loss_sum / seen}
                if 2 * (epoch + 1) >= epochs:
                    agreement = row["agreement"] = selector_agreement(generator, images, labels, device)
                record["epochs"].append(row)
                progress("epoch", {"stage": "selector", "epoch": epoch + 1, "epochs": epochs, **row})
                if agreement >= target:
                    break
    finally:
        generator.patterns.requires_grad_(learns_patterns)
    generator.eval()
    return {**record, "agreement": agreement, "reached": agreement >= target}
