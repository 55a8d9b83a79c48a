"""The ConfounderGAN noise generators.

Two kinds, both mapping an image x in [0, 1] to noise in [-epsilon, epsilon] in one forward pass:

- "direct": the paper's literal reading (an AdvGAN-shaped encoder-decoder that outputs one noise
  value per pixel). Fully convolutional, so any image size works.
- "mixture" (the default): a small classifier looks at the image, resized to `view_size`, and
  mixes K noise patterns by its softmax; the patterns are blocks of `cell_size` pixels (1 for
  ConfounderGAN's default anti-template patterns, which cover the image), optionally mirror-symmetric,
  and tile periodically over any image size. ConfounderGAN sets them from the classes' mean images or
  draws them (protections/unlearnable/pattern_draw.py) and by default keeps them fixed. Why this
  shape: on our data, per-pixel generator noise was not a shortcut a victim prefers
  (docs/background.md, section 1), while noise that is
  consistent with the label, simple and uses the whole budget is. This generator is still a
  confounder of image and label: it depends on the image, and the confounder loss through f makes
  its mixture follow the label. Its cost does not grow with the image beyond a resize and a tile.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.errors import ConfigurationError


def documented_field(default, help_text: str):
    """A config field with its help text (`imageprivacy train-generator` shows it beside the field's flag)."""
    return field(default=default, metadata={"help": help_text})


@dataclass
class GeneratorConfig:
    channels: int = 1              # set from the data by ConfounderGAN.fit, as are num_classes and epsilon
    num_classes: int = 10
    epsilon: float = 16 / 255
    kind: str = documented_field("mixture", "generator: mixture (K learned patterns mixed by a selector) or direct")
    width: int = documented_field(32, "conv width of the generator's image encoder (32 fits 60k Fashion-MNIST "
                                      "labels in 12 epochs, docs/confoundergan.md)")
    view_size: int = documented_field(32, "mixture: the image is seen at this size to choose the mixture")
    cell_size: int = documented_field(14, "mixture, drawn patterns: blocks of cell_size x cell_size pixels (14: a 2x2 "
                                          "code over a 28x28 image; 60k small-CNN victim 0.452 vs 0.658 with "
                                          "4-px blocks, paper victim 0.206 vs 0.144-0.224, docs/results.md)")
    pattern_cells: int = documented_field(2, "mixture, drawn patterns: a tile has pattern_cells^2 blocks")
    temperature: float = documented_field(1.0, "mixture: softmax temperature of the mixing weights")
    pattern_init: float = documented_field(3.0, "mixture: std of the initial pattern logits (sign-like patterns)")
    mirror_patterns: bool = documented_field(False, "mixture, drawn patterns: each one mirror-symmetric left-right "
                                                     "(for fine patterns: a victim's flip then shows it shifted); off "
                                                     "for the 2x2 code, which it would cut to 4 codes, so the draw "
                                                     "keeps each class's mirror image off the others instead")
    hard_at_protect: bool = documented_field(True, "mixture: protect with only the pattern of the largest weight")
    full_budget: bool = documented_field(True, "mixture: protect with the sign of each pattern, every pixel at "
                                               "+-epsilon (training keeps tanh); 60k victims 0.14-0.36 over three "
                                               "fits vs 0.341 with tanh patterns, new images 0.481 vs 0.728 "
                                               "(docs/results.md)")
    amplitude: float = documented_field(0.875, "mixture: the patterns write amplitude * epsilon, in (0, 1] (the "
                                               "budget stays epsilon): 0.875 = 14 of 16/255's levels, PSNR 25.8 "
                                               "dB against 24.6 at 1 with anti-template patterns, the paper "
                                               "victim unchanged (docs/results.md, 'Buying back PSNR')")

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> "GeneratorConfig":
        """ConfigurationError unless every field has its type and lies in its range (a checkpoint can hold anything)."""
        check_fields(self, {"channels": 1, "num_classes": 1, "width": 1, "view_size": 1, "cell_size": 1,
                            "pattern_cells": 1}, positive=("temperature", "epsilon", "amplitude"),
                     non_negative=("pattern_init",))
        for key in ("epsilon", "amplitude"):
            if getattr(self, key) > 1.0:
                raise ConfigurationError(f"generator {key} must be in (0, 1], got {getattr(self, key)}")
        if self.kind not in GENERATORS:
            raise ConfigurationError(f"unknown generator kind {self.kind!r}; known: {sorted(GENERATORS)}")
        for key in ("hard_at_protect", "mirror_patterns", "full_budget"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigurationError(f"{key} must be true or false, got {getattr(self, key)!r}")
        return self


def check_fields(config, at_least: dict[str, int], positive=(), non_negative=()) -> None:
    """ConfigurationError naming the first field of `config` that is not an int >= its minimum (`at_least`),
    or not a finite number > 0 (`positive`) or >= 0 (`non_negative`)."""
    name = type(config).__name__
    for key, low in at_least.items():
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigurationError(f"{name}.{key} must be an integer >= {low}, got {value!r}")
    for key in (*positive, *non_negative):
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < 0 or (value == 0 and key in positive):
            bound = "> 0" if key in positive else ">= 0"
            raise ConfigurationError(f"{name}.{key} must be a finite number {bound}, got {value!r}")


def _encoder(channels: int, width: int) -> nn.Sequential:
    # Three stride-2 convolutions: a 32x32 view becomes 4x4, enough context to recognise the object.
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True),
        nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), nn.BatchNorm2d(4 * width), nn.ReLU(inplace=True),
        nn.Conv2d(4 * width, 4 * width, 3, stride=2, padding=1), nn.BatchNorm2d(4 * width), nn.ReLU(inplace=True),
    )


class MixtureGenerator(nn.Module):
    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = _encoder(cfg.channels, cfg.width)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * cfg.width * 16, 128), nn.ReLU(inplace=True),
                                  nn.Linear(128, cfg.num_classes))
        self.patterns = nn.Parameter(cfg.pattern_init * torch.randn(cfg.num_classes, cfg.channels, cfg.pattern_cells,
                                                       cfg.pattern_cells))

    def view(self, x: torch.Tensor) -> torch.Tensor:
        """x at view_size x view_size, what the selector looks at."""
        size = self.cfg.view_size
        # Down-scaling a large image needs antialiasing, or the view aliases into noise.
        return x if x.shape[2:] == (size, size) else F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=max(x.shape[2:]) > size)

    def view_of_uint8(self, images: torch.Tensor, device) -> torch.Tensor:
        """view(images / 255) computed one channel at a time: a large photo is never float as a whole.
        Interpolation treats channels independently, so the result is the same to the bit."""
        return torch.cat([self.view(images[:, c:c + 1].to(device).float() / 255.0)
                          for c in range(images.shape[1])], dim=1)

    def logits_of_view(self, view: torch.Tensor) -> torch.Tensor:
        return self.head(F.adaptive_avg_pool2d(self.encoder(view), 4))

    def mixing_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_of_view(self.view(x))

    def pattern_tiles(self) -> torch.Tensor:
        """(K, C, tile, tile): each pattern's blocks at full resolution, one period of the tiling."""
        logits = self.patterns
        if self.cfg.mirror_patterns:
            # Cells j and n-1-j equal: the tiling is then symmetric about every tile's centre and edge.
            logits = 0.5 * (logits + logits.flip(-1))
        tile = torch.tanh(logits)
        if self.cfg.full_budget and not self.training:
            # The energy of the shortcut, not its shape, is what the tanh patterns lacked at 60k
            # (docs/results.md): protecting spends the whole budget; training keeps tanh's gradient.
            # sign, not >= 0: an anti-template pattern's cells of 0 (pattern_draw.py) write no noise; drawn
            # patterns never hold an exact 0.
            tile = torch.sign(tile)
        # amplitude < 1 spends less than the budget: the anti-template pattern protects the paper victim as
        # well at 14 of 16 levels, 1.2 dB less visible (docs/results.md, "Buying back PSNR").
        tile = self.cfg.amplitude * tile.repeat_interleave(self.cfg.cell_size, dim=2)
        return tile.repeat_interleave(self.cfg.cell_size, dim=3)

    @staticmethod
    def tile_to(tiles: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Repeat (..., th, tw) tiles periodically and crop to (..., height, width)."""
        reps_h, reps_w = -(-height // tiles.shape[-2]), -(-width // tiles.shape[-1])
        return tiles.repeat(1, 1, reps_h, reps_w)[:, :, :height, :width]

    def tiled_patterns(self, height: int, width: int) -> torch.Tensor:
        """(K, C, height, width): every pattern tiled over the full image."""
        return self.tile_to(self.pattern_tiles(), height, width)

    def pattern_noise(self, labels: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The noise of each label's own pattern (the confounder loss's teacher-forced term)."""
        return self.cfg.epsilon * self.tile_to(self.pattern_tiles()[labels], height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.noise_and_logits(x)[0]

    def noise_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(noise, mixing logits) from one pass of the selector, for a loss on both."""
        logits = self.mixing_logits(x)
        # Mixing one period and then tiling equals tiling then mixing (tiling is linear), and costs
        # K times less memory: a 1024x1024 image never materialises all K full-size patterns.
        return self.cfg.epsilon * self.tile_to(self.mixed_tiles(logits), x.shape[2], x.shape[3]), logits

    def mixed_tiles(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, C, tile, tile): one period of each image's noise pattern, from its mixing logits."""
        tiles = self.pattern_tiles()
        if self.training or not self.cfg.hard_at_protect:
            weights = torch.softmax(logits / self.cfg.temperature, dim=1)
            return torch.einsum("nk,kchw->nchw", weights, tiles)
        # Protecting: one pattern per image, so images the generator sees as one class carry
        # identical noise, the least within-class variation a victim can latch onto.
        return tiles[logits.argmax(1)]

    def noise_rows(self, tiles: torch.Tensor, r0: int, r1: int, width: int) -> torch.Tensor:
        """Rows r0..r1 of epsilon * tile_to(tiles, height, width), without the rows above or below."""
        rows = tiles[:, :, torch.arange(r0, r1, device=tiles.device) % tiles.shape[2]]
        return self.cfg.epsilon * self.tile_to(rows, r1 - r0, width)


class DirectGenerator(nn.Module):
    """Encoder-decoder with a residual bottleneck, one noise value per pixel (AdvGAN shape)."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.down = nn.Sequential(
            nn.Conv2d(cfg.channels, w, 3, padding=1), nn.InstanceNorm2d(w, affine=True), nn.ReLU(inplace=True),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.InstanceNorm2d(2 * w, affine=True), nn.ReLU(inplace=True),
        )
        self.middle = nn.Sequential(
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.InstanceNorm2d(2 * w, affine=True), nn.ReLU(inplace=True),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.InstanceNorm2d(2 * w, affine=True),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.InstanceNorm2d(w, affine=True),
            nn.ReLU(inplace=True), nn.Conv2d(w, cfg.channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        # Odd or tiny sizes: pad to even and at least 4x4 (InstanceNorm needs > 1 value), then crop.
        pad_w, pad_h = max(w % 2, 4 - w), max(h % 2, 4 - h)
        padded = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        z = self.down(padded)
        z = F.relu(z + self.middle(z))
        return self.cfg.epsilon * torch.tanh(self.up(z)[:, :, :h, :w])


GENERATORS = {"mixture": MixtureGenerator, "direct": DirectGenerator}


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    return GENERATORS[cfg.validate().kind](cfg)
