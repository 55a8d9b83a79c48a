"""CIFAR-style ResNet-18 and ResNet-50 (He et al. 2016, as used in the unlearnable-examples code).

CIFAR-style means a 3x3 stride-1 stem and no max-pool: small images (28x28, 32x32) keep their
resolution through conv2_x instead of being cut to 8x8 at once. Stages run at widths
w, 2w, 4w, 8w with strides 1, 2, 2, 2 and end in adaptive average pooling, so any input of at
least 8x8 works. `width` = 64 gives the standard network (ResNet-18: 11.2 M parameters with
10 classes); smaller widths make CPU runs possible.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions plus a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand by 4, plus a shortcut (ResNet-50 and deeper)."""

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + self.shortcut(x))


def _shortcut(in_planes: int, out_planes: int, stride: int) -> nn.Module:
    # Identity when shapes match; otherwise a strided 1x1 projection (option B of the paper).
    if stride == 1 and in_planes == out_planes:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_planes))


class ResNet(nn.Module):
    """Stem (`stem` = paper's conv1), four stages `layer1..layer4` (conv2_x..conv5_x), pooled head."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], num_blocks: list[int], in_channels: int = 3,
                 num_classes: int = 10, width: int = 64):
        super().__init__()
        # conv, BN and ReLU live in one Sequential so that a split at "conv1" yields the activation,
        # not the raw convolution output.
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.in_planes = width
        self.layer1 = self._make_stage(block, width, num_blocks[0], stride=1)
        self.layer2 = self._make_stage(block, 2 * width, num_blocks[1], stride=2)
        self.layer3 = self._make_stage(block, 4 * width, num_blocks[2], stride=2)
        self.layer4 = self._make_stage(block, 8 * width, num_blocks[3], stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_stage(self, block, planes: int, count: int, stride: int) -> nn.Sequential:
        blocks = []
        for s in [stride] + [1] * (count - 1):  # only a stage's first block downsamples
            blocks.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*blocks)

    def feature_points(self) -> OrderedDict[str, str]:
        """Split points in paper naming -> submodule path, in forward order.

        "conv1" -> "stem", then one entry per residual block: "conv2_1" -> "layer1.0",
        "conv2_2" -> "layer1.1", ..., "conv3_1" -> "layer2.0", ... The last block of a stage is
        the paper's convK_x output (e.g. conv5_x = "conv5_2" in ResNet-18).
        """
        points = OrderedDict(conv1="stem")
        for stage in range(1, 5):
            for i in range(len(getattr(self, f"layer{stage}"))):
                points[f"conv{stage + 1}_{i + 1}"] = f"layer{stage}.{i}"
        return points

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.stem(x)
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(torch.flatten(self.pool(out), 1))


def resnet18(in_channels: int = 3, num_classes: int = 10, width: int = 64) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], in_channels, num_classes, width)


def resnet50(in_channels: int = 3, num_classes: int = 10, width: int = 64) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], in_channels, num_classes, width)
