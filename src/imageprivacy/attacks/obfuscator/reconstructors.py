"""Reconstructors an attacker may train on obfuscated features (DeepObfuscator, Table 1 and Table 2).

- "mirror": the adversary reconstructor AR, O reversed layer by layer (the worst case: the attacker
  knows O's architecture, section 3.4);
- "urec1", "urec2": U-net-style decoders (Table 2): conv3-64 x3 (x2), Upsample, conv3-128 x3 (x2),
  Upsample, conv3-256 x3 (x2), conv3-3, conv1-3, sigmoid;
- "resrec": a ResNet-style decoder (Table 2): [transconv3-64, then two residual blocks of two
  3x3-64 convs], Upsample, two more residual blocks, conv1-3, sigmoid.
Channel counts are the paper's at width 64 and scale with ObfuscatorArch.width like O's.

Where the paper is silent (our choices): conv - BN - ReLU after every 3x3 conv except the last
conv3-3, which feeds conv1-3 directly; the two Upsamples are nearest-neighbour to the exact sizes O
pooled from; Table 2 lists one Upsample for ResRec but its features are 4x smaller than the image,
so its transconv3-64 has stride 2 and is the first of the two upsamplings; its residual blocks are
ResNet's basic block (conv-BN-ReLU-conv-BN, identity shortcut, ReLU). When O releases a code
(ObfuscatorArch.code), each starts with nets.obfuscator_nets.CodeToMap.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.errors import ConfigurationError
from imageprivacy.nets.obfuscator_nets import MirrorReconstructor, ObfuscatorArch, code_to_map

RECONSTRUCTORS = ("mirror", "urec1", "urec2", "resrec")


def _channels(arch: ObfuscatorArch, paper: int) -> int:
    return max(1, paper * arch.width // 64)


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class UNetDecoder(nn.Module):
    """URec#1 (`convs`=3) and URec#2 (`convs`=2)."""

    def __init__(self, arch: ObfuscatorArch, convs: int):
        super().__init__()
        sizes = arch.pre_pool_sizes()[::-1]
        cin, layers = arch.map_channels(), code_to_map(arch)
        for stage, paper in enumerate((64, 128, 256)):
            cout = _channels(arch, paper)
            for _ in range(convs):
                layers += _conv_bn_relu(cin, cout)
                cin = cout
            if stage < len(sizes):
                layers.append(nn.Upsample(size=sizes[stage], mode="nearest"))
        layers += [nn.Conv2d(cin, arch.channels, 3, padding=1), nn.Conv2d(arch.channels, arch.channels, 1),
                   nn.Sigmoid()]
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


class BasicBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(*_conv_bn_relu(channels, channels),
                                  nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + x)


class ResidualDecoder(nn.Module):
    """ResRec."""

    def __init__(self, arch: ObfuscatorArch):
        super().__init__()
        sizes = arch.pre_pool_sizes()[::-1]
        c = _channels(arch, 64)
        self.first_size = tuple(sizes[0])
        self.code_to_map = nn.Sequential(*code_to_map(arch))
        self.transconv = nn.ConvTranspose2d(arch.map_channels(), c, 3, stride=2, padding=1, bias=False)
        self.stage1 = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True), BasicBlock(c), BasicBlock(c))
        self.stage2 = nn.Sequential(nn.Upsample(size=sizes[1], mode="nearest"), BasicBlock(c), BasicBlock(c))
        self.head = nn.Sequential(nn.Conv2d(c, arch.channels, 1), nn.Sigmoid())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # The stride-2 transposed conv doubles the side; an odd pre-pool side (109 for CelebA's 218)
        # lost a pixel to the pool, so it is restored by a nearest resize.
        features = self.code_to_map(features)
        x = self.transconv(features, output_size=[2 * s for s in features.shape[2:]])
        if tuple(x.shape[2:]) != self.first_size:
            x = F.interpolate(x, size=self.first_size, mode="nearest")
        return self.head(self.stage2(self.stage1(x)))


def build_feature_reconstructor(name: str, arch: ObfuscatorArch) -> nn.Module:
    """A freshly initialised reconstructor `name` (see RECONSTRUCTORS) for O's features under `arch`."""
    factories = {"mirror": lambda: MirrorReconstructor(arch), "urec1": lambda: UNetDecoder(arch, 3),
                 "urec2": lambda: UNetDecoder(arch, 2), "resrec": lambda: ResidualDecoder(arch)}
    if name not in factories:
        raise ConfigurationError(f"unknown reconstructor {name!r}; known: {', '.join(RECONSTRUCTORS)}")
    return factories[name]()
