"""Stationary poisoning functions (SPFs, DPF paper Table 3): fixed, unlearned perturbations of features.

They are the baseline a learned DPF must beat: they suppress what a reconstructor needs and also
what the classifier needs. Applied alone in place of P, or in front of a DPF trained behind them.
The paper gives no strengths; ours (choices):
- Gaussian noise: std = `relative_std` (0.5) times the std of the clean features, measured once on
  the training features and then fixed, so "0.5" means the same on every backbone and hook;
- Gaussian filter: 3x3 window, sigma 1.0, reflect border (feature maps are 7-28 pixels: a wider
  window would average most of a 7x7 map away);
- mean filter: 3x3 box, reflect border.
"""
from __future__ import annotations

import torch
from kornia.filters import box_blur, gaussian_blur2d
from torch import nn

from imageprivacy.errors import ConfigurationError
from imageprivacy.protections.gaussian_noise import GaussianNoise

STATIONARY = ("gaussian-noise", "gaussian-filter", "mean-filter")


class GaussianFilter(nn.Module):
    def __init__(self, kernel_size: int = 3, sigma: float = 1.0):
        super().__init__()
        self.kernel_size, self.sigma = int(kernel_size), float(sigma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_blur2d(x, self.kernel_size, (self.sigma, self.sigma), border_type="reflect")


class MeanFilter(nn.Module):
    def __init__(self, kernel_size: int = 3):
        super().__init__()
        self.kernel_size = int(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return box_blur(x, self.kernel_size, border_type="reflect")


def build_stationary(name: str, feature_std: float = 1.0, relative_std: float = 0.5, seed: int = 0) -> nn.Module:
    """An SPF by name; `feature_std` is the std of the clean features (used by Gaussian noise only)."""
    if name == "gaussian-noise":
        return GaussianNoise(relative_std * feature_std, torch.Generator().manual_seed(seed))
    if name == "gaussian-filter":
        return GaussianFilter()
    if name == "mean-filter":
        return MeanFilter()
    raise ConfigurationError(f"unknown stationary poisoning function {name!r}; known: {', '.join(STATIONARY)}")
