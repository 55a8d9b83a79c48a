"""CIFAR-style DenseNet-121 (Huang et al. 2017, DenseNet-BC).

CIFAR-style: a 3x3 stem of 2*growth channels and no initial max-pool; four dense blocks of
[6, 12, 24, 16] bottleneck layers (BN-ReLU-1x1 conv to 4*growth, BN-ReLU-3x3 conv to growth,
concatenated to the input), joined by transitions that halve channels (compression 0.5) and
resolution. Three 2x2 average pools mean inputs of at least 8x8; the head pools adaptively.
Growth rate 32 is the standard network; it scales with width as 32 * width / 64.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DenseLayer(nn.Module):
    def __init__(self, in_planes: int, growth: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([out, x], dim=1)  # dense connectivity: every later layer sees this input


class Transition(nn.Module):
    def __init__(self, in_planes: int, out_planes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_planes)
        self.conv = nn.Conv2d(in_planes, out_planes, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNet(nn.Module):
    def __init__(self, block_sizes: list[int], in_channels: int = 3, num_classes: int = 10, width: int = 64,
                 compression: float = 0.5):
        super().__init__()
        growth = max(1, 32 * width // 64)
        planes = 2 * growth
        self.conv1 = nn.Conv2d(in_channels, planes, 3, padding=1, bias=False)
        stages: list[nn.Module] = []
        for i, size in enumerate(block_sizes):
            layers = []
            for _ in range(size):
                layers.append(DenseLayer(planes, growth))
                planes += growth
            stages.append(nn.Sequential(*layers))
            if i < len(block_sizes) - 1:  # no transition after the last block
                out_planes = int(planes * compression)
                stages.append(Transition(planes, out_planes))
                planes = out_planes
        self.features = nn.Sequential(*stages)
        # BN-ReLU order means the last block's output is still un-normalised: close it here.
        self.bn = nn.BatchNorm2d(planes)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(planes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn(self.features(self.conv1(x))))
        return self.linear(torch.flatten(self.pool(out), 1))


def densenet121(in_channels: int = 3, num_classes: int = 10, width: int = 64) -> DenseNet:
    return DenseNet([6, 12, 24, 16], in_channels, num_classes, width)
