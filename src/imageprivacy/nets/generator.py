"""The ConfounderGAN noise generators.

Two kinds, both mapping an image x in [0, 1] to noise in [-epsilon, epsilon] in one forward pass:

- "direct": the paper's literal reading (an AdvGAN-shaped encoder-decoder that outputs one noise
  value per pixel). Fully convolutional, so any image size works.
- "mixture" (the default): a small classifier looks at the image, resized to `view_size`, and
  mixes K learned noise patterns by its softmax; the patterns are low-frequency (blocks of
  `cell_size` pixels) and tile periodically over any image size. Why: on our data, per-pixel
  generator noise was not a shortcut a victim prefers (REFERENCE section 2), while noise that is
  consistent with the label, simple and uses the whole budget is. This generator is still a
  confounder of image and label: it depends on the image, and the confounder loss through f makes
  its mixture follow the label. Its cost does not grow with the image beyond a resize and a tile.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class GeneratorConfig:
    channels: int = 1
    num_classes: int = 10
    epsilon: float = 16 / 255
    kind: str = "mixture"          # "mixture" or "direct"
    width: int = 16                # conv width of the image encoder
    view_size: int = 32            # mixture: the image is seen at this size to choose the mixture
    cell_size: int = 4             # mixture: pattern blocks of cell_size x cell_size pixels
    pattern_cells: int = 8         # mixture: a pattern tile has pattern_cells^2 blocks
    temperature: float = 1.0       # mixture: softmax temperature of the mixing weights
    pattern_init: float = 0.5      # mixture: std of the initial pattern logits (tanh saturates above ~2)
    hard_at_protect: bool = True   # mixture: in eval mode use only the pattern with the largest weight

    def to_dict(self) -> dict:
        return asdict(self)


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

    def mixing_logits(self, x: torch.Tensor) -> torch.Tensor:
        view = F.interpolate(x, size=(self.cfg.view_size, self.cfg.view_size), mode="bilinear",
                             align_corners=False, antialias=x.shape[-1] > self.cfg.view_size)
        feats = F.adaptive_avg_pool2d(self.encoder(view), 4)
        return self.head(feats)

    def tiled_patterns(self, height: int, width: int) -> torch.Tensor:
        """(K, C, height, width): each pattern's blocks upsampled, then tiled periodically."""
        tile = torch.tanh(self.patterns).repeat_interleave(self.cfg.cell_size, dim=2)
        tile = tile.repeat_interleave(self.cfg.cell_size, dim=3)
        reps_h = -(-height // tile.shape[2])
        reps_w = -(-width // tile.shape[3])
        return tile.repeat(1, 1, reps_h, reps_w)[:, :, :height, :width]

    def pattern_noise(self, labels: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The noise of each label's own pattern (the confounder loss's teacher-forced term)."""
        return self.cfg.epsilon * self.tiled_patterns(height, width)[labels]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.mixing_logits(x)
        if self.training or not self.cfg.hard_at_protect:
            weights = torch.softmax(logits / self.cfg.temperature, dim=1)
        else:
            # Protecting: one pattern per image, so images the generator sees as one class carry
            # identical noise, the least within-class variation a victim can latch onto.
            weights = F.one_hot(logits.argmax(1), logits.shape[1]).to(x.dtype)
        patterns = self.tiled_patterns(x.shape[2], x.shape[3])
        return self.cfg.epsilon * torch.einsum("nk,kchw->nchw", weights, patterns)


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
        padded = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")     # odd sizes: pad, then crop
        z = self.down(padded)
        z = F.relu(z + self.middle(z))
        return self.cfg.epsilon * torch.tanh(self.up(z)[:, :, :h, :w])


GENERATORS = {"mixture": MixtureGenerator, "direct": DirectGenerator}


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    if cfg.kind not in GENERATORS:
        raise ValueError(f"unknown generator kind {cfg.kind!r}; known: {sorted(GENERATORS)}")
    return GENERATORS[cfg.kind](cfg)
