"""Random-noise baselines: sample-wise random noise and class-wise noise (EMN paper, section 4).

Random noise is the control (it should not protect); class-wise noise is the bar ConfounderGAN must
clear on our data: one fixed pattern per class, 100 % consistent with the label (docs/background.md section 1).
"""
from __future__ import annotations

import torch

from imageprivacy.errors import ConfigurationError, InputShapeError
from imageprivacy.protections.base import Protection, register


def _draw(shape, generator, distribution: str) -> torch.Tensor:
    if distribution == "sign":
        return torch.randint(0, 2, shape, generator=generator).float() * 2 - 1
    if distribution == "uniform":
        return torch.rand(shape, generator=generator) * 2 - 1
    raise ConfigurationError(f"distribution must be 'sign' or 'uniform', got {distribution!r}")


@register
class RandomNoise(Protection):
    """Fresh random noise for every image: no label, no training, no protection expected."""

    name = "random"
    needs_labels_to_fit = False

    def __init__(self, epsilon=8 / 255, distribution: str = "uniform", device="cpu", seed=0, batch_size=256):
        super().__init__(epsilon, device, seed, batch_size)
        self.distribution = distribution
        self._generator = torch.Generator().manual_seed(seed)

    def _fit(self, data, progress):
        self._generator.manual_seed(self.seed)

    def _noise(self, x, labels):
        return self.epsilon * _draw(x.shape, self._generator, self.distribution).to(x.device)

    def _repr_fields(self):
        return {**super()._repr_fields(), "distribution": self.distribution}

    # A checkpoint holds the config only (safetensors accepts an empty tensor dict). A loaded
    # RandomNoise restarts its random stream at `seed`, exactly as a fresh fit does.
    def checkpoint_state(self) -> tuple[dict, dict]:
        return {}, self._checkpoint_meta({"epsilon": self.epsilon, "distribution": self.distribution,
                                          "seed": self.seed, "batch_size": self.batch_size})

    @classmethod
    def from_checkpoint(cls, tensors: dict, meta: dict, device="cpu") -> "RandomNoise":
        return cls._from_meta(meta, device)[0]


@register
class ClassWiseNoise(Protection):
    """One fixed noise pattern per class, drawn at the training image size in `block`-pixel blocks."""

    name = "classwise"
    needs_labels_to_protect = True

    def __init__(self, epsilon=8 / 255, distribution: str = "sign", block: int = 1, device="cpu", seed=0,
                 batch_size=256):
        super().__init__(epsilon, device, seed, batch_size)
        self.distribution, self.block = distribution, int(block)
        self.patterns: torch.Tensor | None = None

    def _fit(self, data, progress):
        c, h, w = data.images.shape[1:]
        self.num_classes = data.num_classes
        gen = torch.Generator().manual_seed(self.seed)
        coarse = _draw((self.num_classes, c, -(-h // self.block), -(-w // self.block)), gen, self.distribution)
        full = coarse.repeat_interleave(self.block, 2).repeat_interleave(self.block, 3)[:, :, :h, :w]
        self.patterns = self.epsilon * full

    def _noise(self, x, labels):
        if x.shape[2:] != self.patterns.shape[2:]:
            # Patterns exist at the fitted size only: say so rather than silently resizing them.
            raise InputShapeError(f"class-wise noise was fitted on {tuple(self.patterns.shape[2:])} images, "
                                  f"got {tuple(x.shape[2:])}")
        return self.patterns.to(x.device)[labels]

    def _repr_fields(self):
        return {**super()._repr_fields(), "distribution": self.distribution, "block": self.block}

    def checkpoint_state(self) -> tuple[dict, dict]:
        config = {"epsilon": self.epsilon, "distribution": self.distribution, "block": self.block,
                  "seed": self.seed, "batch_size": self.batch_size}
        return ({"patterns": self.patterns.detach().cpu().contiguous()},
                self._checkpoint_meta(config))

    @classmethod
    def from_checkpoint(cls, tensors: dict, meta: dict, device="cpu") -> "ClassWiseNoise":
        self, state = cls._from_meta(meta, device)
        self.patterns = self._class_tensor(tensors, "patterns")
        return self
