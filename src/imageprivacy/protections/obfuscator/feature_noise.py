"""Stochastic features: Gaussian noise at the obfuscator's output (issue 16, a lever against fresh attackers).

    f -> tanh(f) + std * N(0, 1)          (std 0: f unchanged, the paper's obfuscator)

Why bounded first: O could otherwise scale its features up until any fixed noise is negligible. tanh keeps
each (non-negative, post-ReLU) feature in [0, 1), or each number of a code (ObfuscatorArch.code, no ReLU) in
(-1, 1), so the noise sets a fixed signal-to-noise ratio per feature: a cap on what any attacker, however
trained, can read from one feature.

The noise is part of what is released, not a training trick: it is applied in training and evaluation mode
alike, by the deployed `Obfuscator` too. C is trained on noisy features (Algorithm 1 keeps training it), and
without the noise the features are the deterministic tanh(O(x)), which hold everything the noise was meant to
drown. Where the noise comes from:
- experiments give a seed, so a run's numbers, its cached stages and its encoded test features are
  reproducible; the generator advances with every call, so no two batches get the same draw;
- a deployed obfuscator loaded without a seed (Obfuscator.load) draws one from the OS's entropy. The seed is
  never written into the obfuscator file: whoever holds the file (the attacker may) could otherwise replay
  the generator and subtract the noise from what a phone sent.
"""
from __future__ import annotations

import torch
from torch import nn

from imageprivacy.errors import ConfigurationError


class FeatureNoise(nn.Module):
    def __init__(self, std: float = 0.0, seed: int | None = None):
        super().__init__()
        if std < 0:
            raise ConfigurationError(f"feature noise std must be >= 0, got {std}")
        self.std = float(std)
        self.generator = torch.Generator()
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        """Restart the noise from `seed`, or from fresh OS entropy when None."""
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(int(seed))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.std == 0:
            return features
        noise = torch.randn(features.shape, generator=self.generator).to(features.device, features.dtype)
        return torch.tanh(features) + self.std * noise

    def extra_repr(self) -> str:
        return f"std={self.std}"
