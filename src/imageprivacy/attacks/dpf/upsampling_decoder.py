"""A decoder built unlike the paper's reconstructors: the independent attacker of issue 16, by name `u<C>`.

issue 16 found that a decoder of this kind, trained with L1 on phi1's features of public images, reconstructed
a DPF release at SSIM 0.66 while the paper's reconstructors scored near a blank image: P had learnt to fool the
inverse-bottleneck family it was trained against, not decoders in general. So the DPF can train against it (an
ensemble of differently built decoders, DPFConfig.decoders) and the evaluation trains it afresh (another seed,
another width) as an unseen attacker.

    1x1 conv features -> C channels, BN, ReLU
    per doubling: nearest upsample x2, 3x3 conv (channels halve, at least 8), BN, ReLU
    a nearest resize to the image size when the doublings overshoot (7 -> 28 is exact; 4 -> 16 too)
    3x3 conv to the image channels, sigmoid

Nearest upsampling and a sigmoid head, where the paper's family uses bilinear upsampling, no activation in
its blocks and min-max normalisation or a clamp: the two families share as little as a decoder can.
"""
from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.errors import ConfigurationError, InputShapeError

NAME = re.compile(r"^u(\d+)$")
MIN_CHANNELS = 8


def decoder_width(name: str) -> int | None:
    """C of a `u<C>` name (C >= 1), None for any other name."""
    match = NAME.match(name)
    if not match:
        return None
    if int(match[1]) < 1:
        raise ConfigurationError(f"decoder {name!r}: u<C> needs C >= 1 channels")
    return int(match[1])


def _conv_bn_relu(cin: int, cout: int, kernel: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class UpsamplingDecoder(nn.Module):
    """(N, C_f, h, w) features -> (N, c, H, W) images in (0, 1)."""

    def __init__(self, name: str, feature_shape: tuple[int, int, int], image_shape: tuple[int, int, int]):
        super().__init__()
        width = decoder_width(name)
        if width is None:
            raise ConfigurationError(f"{name!r} is not an upsampling decoder name (u<C>, e.g. u64)")
        self.name, self.feature_shape, self.image_shape = name, tuple(feature_shape), tuple(image_shape)
        layers, channels, side = _conv_bn_relu(feature_shape[0], width, 1), width, min(feature_shape[1:])
        while side < min(image_shape[1:]):
            out = max(channels // 2, MIN_CHANNELS)
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv_bn_relu(channels, out, 3)]
            channels, side = out, side * 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Conv2d(channels, image_shape[0], 3, padding=1), nn.Sigmoid())

    def config(self) -> dict:
        return {"name": self.name, "feature_shape": list(self.feature_shape), "image_shape": list(self.image_shape)}

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 4 or tuple(features.shape[1:]) != self.feature_shape:
            raise InputShapeError(f"decoder {self.name} takes features (N, {', '.join(map(str, self.feature_shape))}), "
                                  f"got {tuple(features.shape)}")
        y = self.body(features)
        if tuple(y.shape[2:]) != self.image_shape[1:]:
            y = F.interpolate(y, size=self.image_shape[1:], mode="nearest")
        return self.head(y)
