"""The four networks of DeepObfuscator's Table 1, sized by one `ObfuscatorArch` so CPU runs are possible.

VGG16-BN split after its second block (paper section 3.2):
- obfuscator O: blocks 1-2 (conv3-64 x2, maxpool, conv3-128 x2, maxpool) -> (2w, H/4, W/4) features;
- classifier C and adversary classifier AC: blocks 3-5 (3 x conv3-256, maxpool, 3 x conv3-512,
  maxpool, 3 x conv3-512, maxpool), 2 x FC-hidden, FC-label length;
- adversary reconstructor AR: O mirrored layer by layer (Upsample, deconv3-128, deconv3-64,
  Upsample, deconv3-64, deconv3-3), ending in a sigmoid so images lie in [0, 1].
`width` scales every channel count (64 = the paper), `depth` caps the convs per block (VGG16 has
2, 2, 3, 3, 3), `hidden` is the FC width (4096 in the paper). `bottleneck` > 0 (not in the paper; a lever
of issue 16) ends O with a 1x1 conv to that many channels, so the released features hold fewer numbers
and, with the noise of feature_noise.py, less of anything the task does not need; AR then starts with the
mirrored 1x1 deconv. `code` > 0 (not in the paper either) ends O with a linear layer to that many numbers,
released as (code, 1, 1): a few numbers, each drowned by the same noise, carry little beyond the task's few
bits (an information bottleneck). Every decoder then starts by mapping the code back to O's last feature map
(`CodeToMap`), so a fresh reconstructor is not starved of spatial layout by our own construction.

Where the paper is silent (our choices): conv - BN - ReLU everywhere (VGG16-BN, as the authors'
code); no dropout in the FC layers (the adversarial game is noisy enough); logits out (the
sigmoid / softmax lives in the loss); classifier pools leave a side of 1 pixel alone
(nets.vgg.PoolUnlessTiny) so 28x28 inputs work; Upsample is nearest-neighbour to the exact size the
matching pool received, so odd sizes (CelebA's 218x178) come back exactly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from imageprivacy.errors import ConfigurationError, InputShapeError
from imageprivacy.nets.vgg import PoolUnlessTiny

VGG16_CONVS = (2, 2, 3, 3, 3)
OBFUSCATOR_BLOCKS = 2


@dataclass(frozen=True)
class ObfuscatorArch:
    channels: int = 1
    image_size: tuple[int, int] = (28, 28)
    width: int = 64
    depth: int = 3
    hidden: int = 4096
    bottleneck: int = 0             # channels of O's output after a 1x1 conv; 0 = none (the paper's O)
    code: int = 0                   # numbers O releases after a final linear layer; 0 = a feature map (the paper)

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))
        if min(self.channels, self.width, self.depth, self.hidden) < 1 or min(self.image_size) < 4:
            raise ConfigurationError(f"channels, width, depth, hidden must be >= 1 and images at least 4x4: {self}")
        if self.bottleneck < 0 or self.code < 0:
            raise ConfigurationError(f"bottleneck and code must be >= 1, or 0 for none; got {self.bottleneck}, "
                                     f"{self.code}")

    def convs(self, block: int) -> int:
        return min(VGG16_CONVS[block], self.depth)

    def block_channels(self, block: int) -> int:
        return self.width * min(2 ** block, 8)

    def pre_pool_sizes(self) -> list[tuple[int, int]]:
        """Spatial size entering each of the obfuscator's pools (what AR upsamples back to)."""
        sizes, (h, w) = [], self.image_size
        for _ in range(OBFUSCATOR_BLOCKS):
            sizes.append((h, w))
            h, w = h // 2, w // 2
        return sizes

    def map_shape(self) -> tuple[int, int, int]:
        """O's last feature map: what it releases without a code, what a code is computed from."""
        h, w = self.pre_pool_sizes()[-1]
        return self.bottleneck or self.block_channels(OBFUSCATOR_BLOCKS - 1), h // 2, w // 2

    def feature_shape(self) -> tuple[int, int, int]:
        return (self.code, 1, 1) if self.code else self.map_shape()

    def map_channels(self) -> int:
        """Channels a decoder's first spatial layer receives (after `CodeToMap` when there is a code)."""
        return self.map_shape()[0]

    def to_dict(self) -> dict:
        return {**asdict(self), "image_size": list(self.image_size)}

    @classmethod
    def from_dict(cls, values: dict) -> "ObfuscatorArch":
        # Files written before `bottleneck` / `code` existed lack them and get 0: the O they were trained with.
        return cls(**{**values, "image_size": tuple(values["image_size"])})


def _conv(cin: int, cout: int, kernel: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _code_layers(arch: ObfuscatorArch) -> list[nn.Module]:
    """O's map -> (code, 1, 1). No ReLU: the noise's tanh (feature_noise.py) then spans (-1, 1), not [0, 1)."""
    c, h, w = arch.map_shape()
    return [nn.Flatten(), nn.Linear(c * h * w, arch.code, bias=False), nn.BatchNorm1d(arch.code),
            nn.Unflatten(1, (arch.code, 1, 1))]


class CodeToMap(nn.Module):
    """A decoder's first stage under a code: (code, 1, 1) -> O's last feature map shape (linear, BN, ReLU)."""

    def __init__(self, arch: ObfuscatorArch):
        super().__init__()
        c, h, w = arch.map_shape()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(arch.code, c * h * w, bias=False),
                                    nn.BatchNorm1d(c * h * w), nn.ReLU(inplace=True), nn.Unflatten(1, (c, h, w)))

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.layers(code)


def code_to_map(arch: ObfuscatorArch) -> list[nn.Module]:
    """The layers every decoder starts with: `CodeToMap` when O releases a code, none otherwise."""
    return [CodeToMap(arch)] if arch.code else []


class ObfuscatorFront(nn.Module):
    """O: (N, channels, H, W) images in [0, 1] -> (N, 2w, H/4, W/4) features."""

    def __init__(self, arch: ObfuscatorArch):
        super().__init__()
        self.arch, layers, cin = arch, [], arch.channels
        for block in range(OBFUSCATOR_BLOCKS):
            for _ in range(arch.convs(block)):
                layers += _conv(cin, arch.block_channels(block))
                cin = arch.block_channels(block)
            layers.append(nn.MaxPool2d(2))
        if arch.bottleneck:
            layers += _conv(cin, arch.bottleneck, kernel=1)
        if arch.code:
            layers += _code_layers(arch)
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.arch.channels, *self.arch.image_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise InputShapeError(f"the obfuscator takes images (N, {', '.join(map(str, expected))}), "
                                  f"got {tuple(x.shape)}")
        return self.layers(x)


class FeatureClassifier(nn.Module):
    """C or AC: O's features -> logits over `num_classes` (VGG16 blocks 3-5 and its FC head)."""

    def __init__(self, arch: ObfuscatorArch, num_classes: int):
        super().__init__()
        self.arch, self.num_classes = arch, int(num_classes)
        cin, (_, h, w), layers = arch.feature_shape()[0], arch.feature_shape(), []
        for block in range(OBFUSCATOR_BLOCKS, len(VGG16_CONVS)):
            for _ in range(arch.convs(block)):
                layers += _conv(cin, arch.block_channels(block))
                cin = arch.block_channels(block)
            layers.append(PoolUnlessTiny())
            h, w = (h // 2 if h >= 2 else h), (w // 2 if w >= 2 else w)
        self.convs = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(cin * h * w, arch.hidden), nn.ReLU(inplace=True),
                                  nn.Linear(arch.hidden, arch.hidden), nn.ReLU(inplace=True),
                                  nn.Linear(arch.hidden, self.num_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(features))


class MirrorReconstructor(nn.Module):
    """AR: O reversed layer by layer (each conv c_in -> c_out becomes a deconv c_out -> c_in)."""

    def __init__(self, arch: ObfuscatorArch):
        super().__init__()
        self.arch, layers, channels = arch, [], [arch.channels]
        for block in range(OBFUSCATOR_BLOCKS):
            channels += [arch.block_channels(block)] * arch.convs(block)
        pairs = list(zip(channels[:-1], channels[1:]))        # O's convs, in order
        per_block = [arch.convs(b) for b in range(OBFUSCATOR_BLOCKS)]
        sizes = arch.pre_pool_sizes()
        layers += code_to_map(arch)
        if arch.bottleneck:                                     # mirrors O's 1x1 bottleneck conv
            last_block = arch.block_channels(OBFUSCATOR_BLOCKS - 1)
            layers += [nn.ConvTranspose2d(arch.bottleneck, last_block, 1, bias=False),
                       nn.BatchNorm2d(last_block), nn.ReLU(inplace=True)]
        for block in reversed(range(OBFUSCATOR_BLOCKS)):
            layers.append(nn.Upsample(size=sizes[block], mode="nearest"))
            start = sum(per_block[:block])
            for i in reversed(range(start, start + per_block[block])):
                cin, cout = pairs[i]
                last = i == 0                                   # mirrors O's first conv: out to the image
                layers.append(nn.ConvTranspose2d(cout, cin, 3, padding=1, bias=last))
                layers += [nn.Sigmoid()] if last else [nn.BatchNorm2d(cin), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)
