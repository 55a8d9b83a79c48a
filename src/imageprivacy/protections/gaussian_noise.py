"""Gaussian noise as a module: DPF's stationary noise on features (dpf/stationary.py) and, clipped to
[0, 1], DeepObfuscator's noise baseline on images (obfuscator/image_noise.py)."""
from __future__ import annotations

import torch
from torch import nn


class GaussianNoise(nn.Module):
    """Adds N(0, std^2) to every feature; a seeded generator when one is given (reproducible releases)."""

    def __init__(self, std: float, generator: torch.Generator | None = None):
        super().__init__()
        self.std, self.generator = float(std), generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        noise = torch.randn(x.shape, generator=self.generator, dtype=x.dtype).to(x.device)
        return x + self.std * noise
