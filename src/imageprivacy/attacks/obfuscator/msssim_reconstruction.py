"""Training a reconstructor on obfuscated features with the paper's loss L(AR1) = 1 - MS-SSIM (eq. 6).

The attacker holds images of their own and the obfuscator (or queries it), so they make (image,
features) pairs at will. `featurize` runs without gradients: the attacker cannot change O. A NaN
loss stops training (training.finite_loss) rather than switching loss. The loop is the DPF attackers'
(attacks.reconstructor_training) with this loss. Used both for the simulated adversary's
pretraining and for the fresh attackers retrained after O is frozen.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import torch
from torch import nn

from imageprivacy.attacks.reconstructor_training import train_reconstructor
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams, per_image_msssim


def reconstruction_loss(recon: torch.Tensor, target: torch.Tensor, params: MSSSIMParams) -> torch.Tensor:
    """1 - mean per-image MS-SSIM: L(AR1) against the images, L(AR2) against one noise image."""
    return 1.0 - per_image_msssim(recon, target, params).mean()


def train_msssim_reconstructor(model: nn.Module, featurize: Callable[[torch.Tensor], torch.Tensor],
                               images: torch.Tensor, epochs: int, batch_size: int = 64, lr: float = 1e-3,
                               params: MSSSIMParams | None = None, device="cpu", seed: int = 0,
                               progress=None, validation: torch.Tensor | None = None,
                               patience: int | None = None) -> dict:
    """Adam on L(AR1) over uint8 (N, C, H, W) `images`; returns {"loss": per-epoch mean} (and "val_loss", with
    early stopping on it, given held-out `validation` images and `patience`: attacks.reconstructor_training)."""
    params = params or MSSSIMParams.for_size(*images.shape[2:])
    return train_reconstructor(model, featurize, images, epochs, batch_size, lr, device, seed, progress,
                               loss=partial(reconstruction_loss, params=params), key="loss",
                               label="reconstructor loss 1 - MS-SSIM", validation=validation, patience=patience)
