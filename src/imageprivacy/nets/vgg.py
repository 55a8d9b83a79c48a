"""CIFAR-style VGG-11 and VGG-16 with BatchNorm (Simonyan & Zisserman 2015, configs 'A' and 'D').

CIFAR-style: 3x3 convolutions with BN, five 2x2 max-pools, then one linear layer instead of the
ImageNet 4096-wide classifier. A 32x32 input reaches 1x1 after the fifth pool; smaller inputs
(28x28, 16x16) would reach 0x0, so a pool is skipped along any side that is already 1 pixel.
Adaptive average pooling to 1x1 then makes the head independent of the input size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Channel counts at width 64; "M" is a max-pool.
CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class PoolUnlessTiny(nn.Module):
    """2x2 max-pool that leaves a side of 1 pixel alone instead of shrinking it to 0.

    Decided at forward time, so one network serves every input size.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = (2 if x.shape[-2] >= 2 else 1, 2 if x.shape[-1] >= 2 else 1)
        if kernel == (1, 1):
            return x
        return F.max_pool2d(x, kernel)


class VGG(nn.Module):
    def __init__(self, config: str, in_channels: int = 3, num_classes: int = 10, width: int = 64):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for item in CONFIGS[config]:
            if item == "M":
                layers.append(PoolUnlessTiny())
                continue
            out = max(1, item * width // 64)
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out),
                       nn.ReLU(inplace=True)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def vgg11(in_channels: int = 3, num_classes: int = 10, width: int = 64) -> VGG:
    return VGG("A", in_channels, num_classes, width)


def vgg16(in_channels: int = 3, num_classes: int = 10, width: int = 64) -> VGG:
    return VGG("D", in_channels, num_classes, width)
