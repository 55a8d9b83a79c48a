"""Training an image reconstructor on the attacker's own images (DPF paper, section 3.1.2): the loop both
attacks/dpf/ and attacks/obfuscator/ train their reconstructors with.

The attacker has a featurizer (released) and public images Q, so they make unlimited (image,
features) pairs and minimise the L1 distance between psi(features) and the image. `featurize` is
whatever maps their images to the features they attack: the released phi1 in the paper's threat
model, or phi1 followed by a released obfuscator in the secondary attack of section 3.2.3.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.training.early_stopping import EarlyStopping
from imageprivacy.training.finite_loss import require_finite


@torch.no_grad()
def validation_loss(reconstructor: nn.Module, featurize: Callable[[torch.Tensor], torch.Tensor],
                    images: torch.Tensor, loss: Callable, batch_size: int = 256, device="cpu") -> float:
    """Mean `loss` over uint8 `images` in eval mode, weighted by batch size."""
    reconstructor.eval()
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device).float() / 255.0
        total += loss(reconstructor(featurize(x)), x).item() * len(x)
    return total / max(1, len(images))


def train_reconstructor(reconstructor: nn.Module, featurize: Callable[[torch.Tensor], torch.Tensor],
                        images: torch.Tensor, epochs: int = 5, batch_size: int = 128, lr: float = 1e-3,
                        device="cpu", seed: int = 0, progress=None,
                        loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.l1_loss, key: str = "l1",
                        label: str = "reconstructor L1 loss", validation: torch.Tensor | None = None,
                        patience: int | None = None) -> dict:
    """Adam on `loss`(reconstruction, image) over uint8 (N, C, H, W) `images`; `featurize` runs without gradients.

    The DPF attackers use the L1 loss; DeepObfuscator's pass 1 - MS-SSIM (attacks.msssim_reconstruction).
    Returns {key: per-epoch mean loss}. A non-finite loss stops training (training.finite_loss), named `label`.
    With `validation` images (the attacker's own, held out of `images`) the loss on them is recorded after every
    epoch as "val_<key>"; with `patience` too, `epochs` is a cap: training stops once the validation loss has
    not fallen for `patience` epochs and ends with the best epoch's weights ("early_stopping" says which).
    """
    device = torch.device(device)
    reconstructor.to(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(reconstructor.parameters(), lr=lr)
    history, step = {key: []}, 0
    stopper = EarlyStopping(patience) if validation is not None and patience else None
    if validation is not None:
        history[f"val_{key}"] = []
    for epoch in range(epochs):
        reconstructor.train()
        order = torch.randperm(len(images), generator=gen)
        total = 0.0
        for start in range(0, len(images), batch_size):
            x = images[order[start:start + batch_size]].to(device).float() / 255.0
            with torch.no_grad():
                features = featurize(x)
            value = require_finite(loss(reconstructor(features), x), label, step)
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            total, step = total + value.item() * len(x), step + 1
        history[key].append(total / max(1, len(images)))
        stop = False
        if validation is not None:
            history[f"val_{key}"].append(validation_loss(reconstructor, featurize, validation, loss, device=device))
            stop = stopper is not None and stopper.update(history[f"val_{key}"][-1], reconstructor)
        if progress:
            progress("epoch", {"epoch": epoch + 1, "epochs": epochs, key: history[key][-1],
                               **({f"val_{key}": history[f"val_{key}"][-1]} if validation is not None else {})})
        if stop:
            break
    if stopper is not None:
        stopper.restore(reconstructor)
        history["early_stopping"] = stopper.summary()
    reconstructor.eval()
    return history


@torch.no_grad()
def reconstruct(reconstructor: nn.Module, features: torch.Tensor, device="cpu",
                batch_size: int = 256) -> torch.Tensor:
    """Float [0, 1] images (on the CPU) from a feature bank, batch by batch, in eval mode."""
    reconstructor.eval().to(device)
    return torch.cat([reconstructor(features[s:s + batch_size].to(device).float()).cpu()
                      for s in range(0, len(features), batch_size)])
