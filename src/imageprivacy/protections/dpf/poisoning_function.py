"""The Deep Poisoning Function P (DPF paper, section 3.2.2): feature maps in, poisoned maps of one shape out.

P is 4 residual bottleneck blocks "equivalent to the bottleneck blocks in the ResNet architecture"
(paper 4.2): 1x1 reduce - BN - ReLU - 3x3 - BN - ReLU - 1x1 expand - BN, plus the identity, then
ReLU. Our choices where the paper is silent:
- the bottleneck reduces the channels by 4 (ResNet's expansion), rounding up, at least 1;
- the last BN of every block starts with zero scale, so an untrained P is the identity on the
  (non-negative, post-ReLU) features phi1 makes: training starts from perfect classification
  equivalence and the byproduct term moves it away from there;
- the final ReLU keeps poisoned features non-negative, like the originals, so they cannot be told
  apart by sign.
The config (architecture and how P was trained) is stored in P's checkpoint and rebuilds it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn

from imageprivacy.errors import CheckpointError, ConfigurationError, InputShapeError
from imageprivacy.nets.weights_file import load_state, read_tensors, save_module
from imageprivacy.protections.dpf.dpf_training import train_poisoning_function

KIND = "deep-poisoning-function"
OBJECTIVES = ("decorrelation", "ssim", "random-labels")
REFRESH_ON = ("clean", "poisoned")


@dataclass
class DPFConfig:
    """P's architecture and how it is trained. The paper's DPF: objective "ssim", decoders ("px2s2",).

    `decoders` names the frozen reconstructors P is trained against ("px2s2" is the straw man psi; the caller
    builds and trains them, attacks/dpf/reconstructors.py). `refresh_every` > 0: every that many epochs the
    caller retrains them from a new initialisation for `refresh_epochs` epochs on public images, featurized
    by phi1 ("clean", as the evaluation's attackers are) or by phi1 then the current P ("poisoned": an
    adversary who knows P, the stronger and costlier opponent).
    """
    channels: int                     # of the features at the hook (P keeps them)
    blocks: int = 4
    reduction: int = 4
    objective: str = "decorrelation"  # byproduct_losses.py: "decorrelation", the paper's "ssim", "random-labels"
    lam: float = 1.0                  # weight of the byproduct term (paper: 1.0)
    epochs: int = 5
    lr: float = 1e-3                  # Adam (the paper names no optimiser)
    batch_size: int = 128
    ssim_weight: float = 1.0          # "decorrelation": weight of the two SSIM terms beside |corr|
    decoders: tuple[str, ...] = ("px2s2", "u32")
    refresh_every: int = 0            # epochs; 0: the decoders stay as trained before P
    refresh_epochs: int = 1
    refresh_on: str = "clean"

    def __post_init__(self) -> None:
        self.decoders = tuple(self.decoders)
        if self.objective not in OBJECTIVES:
            raise ConfigurationError(f"unknown DPF objective {self.objective!r}; known: {', '.join(OBJECTIVES)}")
        if self.refresh_on not in REFRESH_ON:
            raise ConfigurationError(f"unknown DPF refresh_on {self.refresh_on!r}; known: {', '.join(REFRESH_ON)}")
        if not self.decoders:
            raise ConfigurationError("DPFConfig.decoders names no reconstructor to train P against")
        for name in ("channels", "blocks", "reduction", "epochs", "batch_size", "refresh_every", "refresh_epochs"):
            if int(getattr(self, name)) < (0 if name in ("epochs", "refresh_every") else 1):
                raise ConfigurationError(f"DPFConfig.{name} must be positive, got {getattr(self, name)}")

    @classmethod
    def from_dict(cls, values: dict) -> "DPFConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


class PoisonBlock(nn.Module):
    def __init__(self, channels: int, reduction: int):
        super().__init__()
        mid = max(1, -(-channels // reduction))
        self.body = nn.Sequential(
            nn.Conv2d(channels, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, channels, 1, bias=False), nn.BatchNorm2d(channels))
        nn.init.zeros_(self.body[-1].weight)      # identity at initialisation (see module docstring)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class DeepPoisoningFunction(nn.Module):
    def __init__(self, config: DPFConfig):
        super().__init__()
        self.config = config
        self.blocks = nn.Sequential(*[PoisonBlock(config.channels, config.reduction) for _ in range(config.blocks)])
        self.fit_record: dict = {}          # per-epoch loss terms of the last fit

    def fit(self, featurize, classifier: nn.Module, byproduct, images: torch.Tensor, labels: torch.Tensor,
            private_labels: torch.Tensor | None = None, device="cpu", seed: int = 0,
            progress=None, refresh=None) -> "DeepPoisoningFunction":
        """Train P in place behind `featurize` against the frozen classifier and byproduct model(s)
        (dpf_training.py); returns self, like a protection's fit. Applying it is calling it: P(features)."""
        self.fit_record = train_poisoning_function(self, featurize, classifier, byproduct, images, labels,
                                                   private_labels, device=device, seed=seed, progress=progress,
                                                   refresh=refresh)
        return self

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 4 or features.shape[1] != self.config.channels:
            raise InputShapeError(f"this DPF poisons (N, {self.config.channels}, h, w) features, "
                                  f"got {tuple(features.shape)}")
        return self.blocks(features)

    def save(self, path: str | Path, extra: dict | None = None) -> Path:
        """P's weights and config; `extra` (e.g. the hook and backbone it belongs to) is kept with them."""
        return save_module(path, self, KIND, {"dpf": asdict(self.config), **(extra or {})})

    @classmethod
    def load(cls, path: str | Path, device="cpu") -> tuple["DeepPoisoningFunction", dict]:
        tensors, saved = read_tensors(path, KIND)
        try:
            config = DPFConfig.from_dict(saved["dpf"])
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{path}: its DPF config does not rebuild a DPF ({err})") from err
        return load_state(cls(config), tensors, path).to(device).eval(), saved
