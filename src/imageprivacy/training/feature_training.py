"""Training and scoring classifiers on feature maps instead of images (DPF's phi3 and attackers).

A released feature bank is all a downstream user of a DPF release has: they train a new classifier
phi3 on it (paper Fig. 4, green box). Features are float tensors, possibly float16 as released;
each batch is moved to the device and cast to float32. No augmentation: crops and flips of a
feature map are not what the featurizer would make of a cropped or flipped image.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.training.classifier_training import TrainHistory, TrainRecipe


@torch.no_grad()
def map_batches(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, device="cpu",
                batch_size: int = 256, out_dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """fn over uint8 (N, C, H, W) images in batches, as floats in [0, 1]; results on the CPU."""
    out = [fn(images[s:s + batch_size].to(device).float() / 255.0).to("cpu", out_dtype)
           for s in range(0, len(images), batch_size)]
    return torch.cat(out)


@torch.no_grad()
def topk_accuracy(model: nn.Module, features: torch.Tensor, labels: torch.Tensor, ks=(1, 5), device="cpu",
                  batch_size: int = 512) -> dict[str, float]:
    """{"top1": ..., "top5": ...} of `model` (eval mode) on features; k above the class count counts all."""
    model.eval()
    correct = {k: 0 for k in ks}
    for s in range(0, len(features), batch_size):
        logits = model(features[s:s + batch_size].to(device).float())
        y = labels[s:s + batch_size].to(device)
        ranked = logits.topk(min(max(ks), logits.shape[1]), dim=1).indices
        for k in ks:
            correct[k] += (ranked[:, :k] == y[:, None]).any(1).sum().item()
    return {f"top{k}": correct[k] / max(1, len(features)) for k in ks}


def train_feature_classifier(model: nn.Module, features: torch.Tensor, labels: torch.Tensor, recipe: TrainRecipe,
                             device="cpu", seed: int = 0, test: tuple[torch.Tensor, torch.Tensor] | None = None,
                             progress=None) -> TrainHistory:
    """SGD with the recipe's lr, momentum, weight decay and schedule; the recipe's augmentations are ignored."""
    device = torch.device(device)
    model.to(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    total = max(1, recipe.epochs * math.ceil(len(features) / recipe.batch_size))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, (lambda s: 0.5 * (1 + math.cos(math.pi * s / total))) if recipe.schedule == "cosine" else (lambda s: 1.0))
    history = TrainHistory()
    for epoch in range(recipe.epochs):
        model.train()
        order = torch.randperm(len(features), generator=gen)
        seen = correct = 0
        loss_sum = 0.0
        for start in range(0, len(features), recipe.batch_size):
            idx = order[start:start + recipe.batch_size]
            x, y = features[idx].to(device).float(), labels[idx].to(device)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            loss_sum += loss.item() * len(idx)
        history.train_acc.append(correct / seen)
        history.train_loss.append(loss_sum / seen)
        if test is not None:
            history.test_acc.append(topk_accuracy(model, test[0], test[1], ks=(1,), device=device)["top1"])
        if progress:
            progress("epoch", {"epoch": epoch + 1, "epochs": recipe.epochs, "train_acc": history.train_acc[-1],
                               "test_acc": history.test_acc[-1] if history.test_acc else None})
    model.eval()
    return history
