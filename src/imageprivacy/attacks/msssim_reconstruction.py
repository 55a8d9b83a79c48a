"""Training a reconstructor on obfuscated features with the paper's loss L(AR1) = 1 - MS-SSIM (eq. 6).

The attacker holds images of their own and the obfuscator (or queries it), so they make (image,
features) pairs at will. `featurize` runs without gradients: the attacker cannot change O. A NaN
loss stops training (training.finite_loss) rather than switching loss. Used both for the simulated
adversary's pretraining and for the fresh attackers retrained after O is frozen.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from imageprivacy.multiscale_ssim import MSSSIMParams, per_image_msssim
from imageprivacy.training.finite_loss import require_finite


def reconstruction_loss(recon: torch.Tensor, target: torch.Tensor, params: MSSSIMParams) -> torch.Tensor:
    """1 - mean per-image MS-SSIM: L(AR1) against the images, L(AR2) against one noise image."""
    return 1.0 - per_image_msssim(recon, target, params).mean()


def train_msssim_reconstructor(model: nn.Module, featurize: Callable[[torch.Tensor], torch.Tensor],
                               images: torch.Tensor, epochs: int, batch_size: int = 64, lr: float = 1e-3,
                               params: MSSSIMParams | None = None, device="cpu", seed: int = 0,
                               progress=None) -> dict:
    """Adam on L(AR1) over uint8 (N, C, H, W) `images`; returns {"loss": per-epoch mean}."""
    device = torch.device(device)
    model.to(device)
    params = params or MSSSIMParams.for_size(*images.shape[2:])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history, step = {"loss": []}, 0
    for epoch in range(epochs):
        model.train()
        order, total = torch.randperm(len(images), generator=gen), 0.0
        for start in range(0, len(images), batch_size):
            x = images[order[start:start + batch_size]].to(device).float() / 255.0
            with torch.no_grad():
                features = featurize(x)
            loss = require_finite(reconstruction_loss(model(features), x, params), "reconstructor loss 1 - MS-SSIM",
                                  step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, step = total + loss.item() * len(x), step + 1
        history["loss"].append(total / max(1, len(images)))
        if progress:
            progress("epoch", {"epoch": epoch + 1, "epochs": epochs, "loss": history["loss"][-1]})
    model.eval()
    return history

