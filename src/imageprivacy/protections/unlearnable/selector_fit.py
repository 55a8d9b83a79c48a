"""Fit the mixture generator's selector to the labels of the images it will protect.

Why a stage of its own: a victim trained on protected images learns the real task from exactly the
images whose noise names another class. Class-wise noise given a wrong class for 2.8 % of the images
still protects, for 8.8 % it does not (docs/background.md, section 1); the selector trained only
through the paper's losses agreed with the labels for 0.86-0.91 of its own training images
(docs/results.md). So after the GAN game the selector (its encoder and head; the patterns stay as
the game left them) is trained on CE(selector(x), label) until it agrees with `target` of the
labels, or for `epochs` at most: in-distribution protection is fitting, not generalising.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


@torch.no_grad()
def selector_agreement(generator: nn.Module, images: torch.Tensor, labels: torch.Tensor, device,
                       batch_size: int = 512) -> float:
    """Share of uint8 `images` whose selected pattern (eval mode, as `protect` picks it) is their label's."""
    generator.eval()
    hits = 0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device).float() / 255.0
        hits += (generator.mixing_logits(x).argmax(1).cpu() == labels[start:start + batch_size]).sum().item()
    return hits / max(1, len(images))


def fit_selector(generator: nn.Module, images: torch.Tensor, labels: torch.Tensor, epochs: int, lr: float,
                 target: float, batch_size: int, device, seed: int, progress) -> dict:
    """Train the selector (not the patterns) on the labels; stop once its agreement reaches `target`.

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
    for epoch in range(epochs):
        generator.train()
        loss_sum, seen = 0.0, 0
        for idx in torch.randperm(len(images), generator=gen).split(batch_size):
            x = images[idx].to(device).float() / 255.0
            loss = F.cross_entropy(generator.mixing_logits(x), labels[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum, seen = loss_sum + loss.item() * len(idx), seen + len(idx)
        row = {"epoch": epoch + 1, "loss": loss_sum / seen}
        if 2 * (epoch + 1) >= epochs:
            agreement = row["agreement"] = selector_agreement(generator, images, labels, device)
        record["epochs"].append(row)
        progress("epoch", {"stage": "selector", "epoch": epoch + 1, "epochs": epochs, **row})
        if agreement >= target:
            break
    generator.eval()
    return {**record, "agreement": agreement, "reached": agreement >= target}
