"""The ConfounderGAN discriminator: tells original images from protected ones (paper Eq. 2)."""
from __future__ import annotations

from torch import nn


class Discriminator(nn.Module):
    """PatchGAN-like stack of stride-2 convolutions, averaged to one logit per image (any size)."""

    def __init__(self, channels: int, width: int = 32):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * width, 1, 3, padding=1),
        )

    def forward(self, x):
        return self.body(x).mean(dim=(1, 2, 3))
