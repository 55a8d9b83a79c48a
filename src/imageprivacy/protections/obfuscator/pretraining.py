"""Pretraining before Algorithm 1 (DeepObfuscator section 3.5).

1. O and C trained jointly as one classifier on the intended task, "without privacy concern", by the
   package's classifier loop (SGD, momentum 0.9, weight decay 5e-4, cosine schedule, no augmentation:
   our recipe, the paper names Adam only for Algorithm 1). This model is also the baseline "same
   architecture without adversarial training"; with `noise` in front it is the noise baseline.
2. With O frozen, AR trained on L(AR1) = 1 - MS-SSIM and AC on the private labels, so Algorithm 1
   starts against competent adversaries.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from imageprivacy.attacks.obfuscator.attribute_inference import CLASSIFIER_RECIPE, train_attribute_classifier
from imageprivacy.attacks.obfuscator.msssim_reconstruction import train_msssim_reconstructor
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams
from imageprivacy.training.classifier_training import TrainRecipe, train_classifier

if TYPE_CHECKING:          # DeepObfuscator.fit calls this module's training
    from imageprivacy.protections.obfuscator.deep_obfuscator import DeepObfuscator


def pretrain_task_model(net: DeepObfuscator, images: torch.Tensor, task: torch.Tensor, epochs: int,
                        batch_size: int, device="cpu", seed: int = 0, noise: nn.Module | None = None,
                        progress=None) -> dict:
    """O and C trained jointly on (images, task labels); `noise` is applied to every image first."""
    torch.manual_seed(seed)
    model = nn.Sequential(*([noise] if noise is not None else []), net.obfuscator, net.classifier)
    recipe = TrainRecipe(epochs=epochs, batch_size=batch_size, **CLASSIFIER_RECIPE)
    history = train_classifier(model, images, task, recipe, device, seed, progress=progress)
    net.eval()
    return history.to_dict()


def pretrain_adversaries(net: DeepObfuscator, images: torch.Tensor, private: torch.Tensor, epochs: int,
                         batch_size: int, lr: float, params: MSSSIMParams, device="cpu", seed: int = 0,
                         progress=None) -> dict:
    """AR and AC trained on the features of the frozen O."""
    net.to(device)
    obfuscator = net.obfuscator.eval()
    ar = train_msssim_reconstructor(net.reconstructor, obfuscator, images, epochs, batch_size, lr, params, device,
                                    seed, progress)
    ac = train_attribute_classifier(net.adversary, obfuscator, images, private, epochs, batch_size, device, seed + 1,
                                    progress)
    net.eval()
    return {"reconstructor": ar, "adversary": ac}
