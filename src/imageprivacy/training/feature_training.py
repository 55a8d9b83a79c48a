"""Training and scoring classifiers on feature maps instead of images (DPF's phi3 and attackers).

A released feature bank is all a downstream user of a DPF release has: they train a new classifier
phi3 on it (paper Fig. 4, green box). Features are float tensors, possibly float16 as released;
each batch is moved to the device and cast to float32. No augmentation: crops and flips of a
feature map are not what the featurizer would make of a cropped or flipped image.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import torch
from torch import nn

from imageprivacy.training.classifier_training import TrainHistory, TrainRecipe, train_classifier


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
    return train_classifier(model, features, labels, replace(recipe, augment=()), device=device, seed=seed,
                            test=test, progress=progress, inputs="features")
