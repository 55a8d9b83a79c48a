"""Image reconstructors: map feature maps at a hook back to images (DPF paper, sections 3.1.2, 4.2, 4.3).

Names follow the paper: `{p|r}x{B}s{S}[-c]`.
- p: plain inverse bottleneck block CONV 1x1 - BN - CONV 3x3 - BN - CONV 1x1 - ReLU (the paper's
  exact sequence, no activation inside); r: the same body with a residual shortcut, ReLU(body + x).
- x{B}: B blocks before each upscaling; s{S}: each upscaling multiplies the side by S.
- -c: the output is clamped to [0, 1]; without it, min-max normalised per image (paper 4.2).
The straw man used to train the DPF is px2s2; px4s2, rx2s2, rx4s2, rx4s4, rx2s2-c are the
reconstructors the DPF never sees (Fig. 7). Any name of this pattern builds, and so does `u<C>`, a
decoder built unlike this family (upsampling_decoder.py, issue 16's independent attacker).

Where the paper is silent (our choices):
- "Inverse" is read as the decoder mirror of a ResNet stage: channels shrink as resolution grows.
  A block maps in -> out channels with its 3x3 at `out` channels (no squeeze: the 1x1 convs carry the
  channel change), the first block of a stack changes channels, the others keep them.
- Each stack divides the channels by its scale factor (ResNet doubles them per halving), never
  below 8; upscaling is bilinear (parameter-free, no checkerboard artefacts).
- Stacks: as many as it takes for the feature side to reach the image side (7 -> 28: two s2
  stacks or one s4 stack); if that overshoots (4 -> 32 for 28), a final bilinear resize to the
  exact size. Features already at image size get one stack without upscaling.
- Head: CONV 1x1 - BN - ReLU - CONV 1x1 to the image channels, as the paper writes it.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.attacks.dpf.upsampling_decoder import UpsamplingDecoder, decoder_width
from imageprivacy.errors import ConfigurationError, InputShapeError
from imageprivacy.nets.weights_file import load_state, read_tensors, save_module

UNSEEN = ("px4s2", "rx2s2", "rx4s2", "rx4s4", "rx2s2-c")
STRAW_MAN = "px2s2"
KIND = "reconstructor"          # the weights-file kind (nets.weights_file) of a saved reconstructor
_NAME = re.compile(r"^([pr])x(\d+)s(\d+)(-c)?$")
MIN_CHANNELS = 8


@dataclass(frozen=True)
class ReconstructorSpec:
    residual: bool
    blocks: int           # blocks before each upscaling
    scale: int            # upscaling factor of one stack
    clamp: bool           # True: clamp to [0, 1]; False: min-max per image

    @classmethod
    def parse(cls, name: str) -> "ReconstructorSpec":
        match = _NAME.match(name)
        if not match or int(match[2]) < 1 or int(match[3]) < 2:
            raise ConfigurationError(f"unknown reconstructor {name!r}: write [p|r]x<blocks>s<scale>[-c], e.g. px2s2, "
                                     f"or u<channels>, e.g. u64")
        return cls(match[1] == "r", int(match[2]), int(match[3]), match[4] is not None)


class InverseBottleneck(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, residual: bool):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, bias=False), nn.BatchNorm2d(out_ch),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch),
                                  nn.Conv2d(out_ch, out_ch, 1))
        self.shortcut = None
        if residual:
            self.shortcut = nn.Identity() if in_ch == out_ch else nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return torch.relu(out if self.shortcut is None else out + self.shortcut(x))


def min_max_normalise(y: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each image stretched to span [0, 1] over all its channels and pixels."""
    flat = y.flatten(1)
    low, high = flat.min(1).values, flat.max(1).values
    return (y - low[:, None, None, None]) / (high - low + eps)[:, None, None, None]


class Reconstructor(nn.Module):
    """(N, C, h, w) features -> (N, c, H, W) images in [0, 1]."""

    def __init__(self, name: str, feature_shape: tuple[int, int, int], image_shape: tuple[int, int, int]):
        super().__init__()
        self.name, self.spec = name, ReconstructorSpec.parse(name)
        self.feature_shape, self.image_shape = tuple(feature_shape), tuple(image_shape)
        channels, side = feature_shape[0], min(feature_shape[1:])
        stacks: list[nn.Module] = []
        while side < min(image_shape[1:]) or not stacks:
            factor = self.spec.scale if side < min(image_shape[1:]) else 1
            out = max(channels // factor, MIN_CHANNELS) if factor > 1 else channels
            blocks = [InverseBottleneck(channels if i == 0 else out, out, self.spec.residual)
                      for i in range(self.spec.blocks)]
            if factor > 1:
                blocks.append(nn.Upsample(scale_factor=factor, mode="bilinear", align_corners=False))
            stacks.append(nn.Sequential(*blocks))
            channels, side = out, side * factor
        self.stacks = nn.Sequential(*stacks)
        self.head = nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels),
                                  nn.ReLU(inplace=True), nn.Conv2d(channels, image_shape[0], 1))

    def config(self) -> dict:
        return {"name": self.name, "feature_shape": list(self.feature_shape), "image_shape": list(self.image_shape),
                "spec": asdict(self.spec)}

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 4 or tuple(features.shape[1:]) != self.feature_shape:
            shape = ", ".join(map(str, self.feature_shape))
            raise InputShapeError(f"reconstructor {self.name} takes features (N, {shape}), "
                                  f"got {tuple(features.shape)}")
        y = self.stacks(features)
        if tuple(y.shape[2:]) != self.image_shape[1:]:
            y = F.interpolate(y, size=self.image_shape[1:], mode="bilinear", align_corners=False)
        y = self.head(y)
        return y.clamp(0.0, 1.0) if self.spec.clamp else min_max_normalise(y)


def check_reconstructor_name(name: str) -> None:
    """ConfigurationError unless `name` builds a reconstructor (either family)."""
    if decoder_width(name) is None:
        ReconstructorSpec.parse(name)


def build_reconstructor(name: str, feature_shape, image_shape) -> nn.Module:
    """A reconstructor by name: `[p|r]x<B>s<S>[-c]` (this module) or `u<C>` (upsampling_decoder.py)."""
    if decoder_width(name) is not None:
        return UpsamplingDecoder(name, tuple(feature_shape), tuple(image_shape))
    return Reconstructor(name, tuple(feature_shape), tuple(image_shape))


def save_reconstructor(reconstructor: nn.Module, path: str | Path, extra: dict | None = None) -> Path:
    return save_module(path, reconstructor, KIND, {**reconstructor.config(), **(extra or {})})


def load_reconstructor(path: str | Path, device="cpu") -> tuple[nn.Module, dict]:
    """(reconstructor in eval mode, its config including any `extra` saved with it)."""
    tensors, config = read_tensors(path, KIND)
    model = build_reconstructor(config["name"], tuple(config["feature_shape"]), tuple(config["image_shape"]))
    return load_state(model, tensors, path).to(device).eval(), config
