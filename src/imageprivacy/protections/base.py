"""The base class of every protection: input checks, devices, batching and the 8-bit budget."""
from __future__ import annotations

import json
from typing import Callable

import torch

from imageprivacy.data.input_checks import check_images, check_labels
from imageprivacy.errors import CheckpointError, ConfigurationError, MissingLabelsError, NotFittedError

Progress = Callable[[str, dict], None]   # progress(event, values): the only way code below cli reports

PROTECTIONS: dict[str, type["Protection"]] = {}


def register(cls: type["Protection"]) -> type["Protection"]:
    """Class decorator: make a protection reachable by its `name` from the CLI and experiments."""
    PROTECTIONS[cls.name] = cls
    return cls


def budget_in_levels(epsilon: float) -> int:
    """The L-inf budget in 8-bit levels; floor, so the written pixels never exceed epsilon."""
    return int(epsilon * 255 + 1e-6)


def apply_noise_uint8(images: torch.Tensor, noise: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Add float noise to uint8 images, round, and clip so |out - in| <= epsilon on the 8-bit pixels."""
    e = budget_in_levels(epsilon)
    base = images.to(torch.int16)
    shifted = torch.round(images.float() + noise.float() * 255.0).to(torch.int16)
    out = torch.minimum(torch.maximum(shifted, base - e), base + e)
    return out.clamp(0, 255).to(torch.uint8)


class Protection:
    """One protection method. Subclasses implement `_fit` (optional) and `_noise`.

    `protect` takes uint8 (N, C, H, W) and returns uint8, or float in [0, 1] and returns float in
    [0, 1]; for a `bounded` method (every one but class-wise patches) the change of every pixel is
    within `epsilon`.
    """

    name = "protection"
    needs_labels_to_fit = True
    needs_labels_to_protect = False
    trainable = False
    # False only for methods that replace pixels (class-wise patches): `protect` then writes
    # x + noise as it is instead of clipping the change to epsilon, which would erase the patch.
    bounded = True

    def __init__(self, epsilon: float = 8 / 255, device: str | torch.device = "cpu", seed: int = 0,
                 batch_size: int = 256):
        if not 0.0 < epsilon <= 1.0:
            raise ConfigurationError(f"epsilon must be in (0, 1], got {epsilon}")
        self.epsilon = float(epsilon)
        self.device = torch.device(device)
        self.seed = int(seed)
        self.batch_size = int(batch_size)
        self.fitted = False
        self.channels: int | None = None
        self.class_names: list[str] = []        # what label k means; checkpoints keep it

    # --- public API -------------------------------------------------------------------------
    def fit(self, data, progress: Progress | None = None) -> "Protection":
        """Learn whatever the method needs from an ImageSet; returns self."""
        if self.needs_labels_to_fit:
            data.require_labels(f"{type(self).__name__}.fit")
        self.channels = data.channels
        self.class_names = list(data.class_names)
        self._fit(data, progress or (lambda event, values: None))
        self.fitted = True
        return self

    @torch.no_grad()
    def protect(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Protected copy of `images` (uint8 -> uint8, float [0,1] -> float); the input is not modified."""
        if not self.fitted:
            raise NotFittedError(f"{type(self).__name__}.protect called before fit (or load)")
        as_uint8 = images.dtype == torch.uint8 if isinstance(images, torch.Tensor) else False
        check_images(images, channels=self.channels, allow_uint8=True)
        if self.needs_labels_to_protect:
            if labels is None:
                raise MissingLabelsError(f"{type(self).__name__} needs the labels of the images it "
                                         "protects (its noise is chosen by class); pass labels=...")
            check_labels(labels, images.shape[0], getattr(self, "num_classes", None))
        out = []
        for start in range(0, images.shape[0], self.batch_size):
            chunk = images[start:start + self.batch_size]
            # Methods compute in float32 whatever the caller's float type; the result keeps the caller's.
            x = (chunk.float() / 255.0 if as_uint8 else chunk.float()).to(self.device)
            y = None if labels is None else labels[start:start + self.batch_size].to(self.device)
            noise = self._noise(x, y)
            if self.bounded:
                noise = noise.clamp(-self.epsilon, self.epsilon)
            noise = noise.to(chunk.device)
            if as_uint8 and self.bounded:
                out.append(apply_noise_uint8(chunk, noise, self.epsilon))
            elif as_uint8:
                out.append(torch.round(chunk.float() + noise.float() * 255.0).clamp(0, 255).to(torch.uint8))
            else:
                out.append((chunk + noise.to(chunk.dtype)).clamp(0.0, 1.0))
        return torch.cat(out) if out else images.clone()

    def to(self, device: str | torch.device) -> "Protection":
        self.device = torch.device(device)
        for module in self._modules():
            module.to(self.device)
        return self

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._repr_fields().items())
        return f"{type(self).__name__}({fields})"

    # --- for subclasses ---------------------------------------------------------------------
    def _fit(self, data, progress: Progress) -> None:
        """Default: nothing to learn."""

    def _noise(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def _modules(self) -> list[torch.nn.Module]:
        return []

    def _repr_fields(self) -> dict:
        return {"epsilon": f"{self.epsilon * 255:g}/255", "device": str(self.device)}

    # --- checkpoint helpers (checkpoint.py calls checkpoint_state / from_checkpoint) ----------
    def _checkpoint_meta(self, config: dict, **state) -> dict[str, str]:
        """safetensors metadata: constructor `config` and fitted `state` as JSON, channels, class names."""
        return {"config": json.dumps(config), "state": json.dumps(state), "channels": str(self.channels),
                "class_names": json.dumps(self.class_names)}

    @classmethod
    def _from_meta(cls, meta: dict, device) -> tuple["Protection", dict]:
        """A fitted-looking instance rebuilt from `_checkpoint_meta`'s output, plus its state dict.

        Missing keys or a config the constructor rejects raise KeyError / TypeError / ValueError,
        which `load_protection` turns into a CheckpointError.
        """
        self = cls(**json.loads(meta["config"]), device=device)
        state = json.loads(meta.get("state", "{}"))
        self.channels = int(meta["channels"])
        self.class_names = list(json.loads(meta.get("class_names", "[]")))
        if "num_classes" in state:
            self.num_classes = int(state["num_classes"])
        self.fitted = True
        return self, state

    def _class_tensor(self, tensors: dict, key: str) -> torch.Tensor:
        """A checkpoint's (K, C, H, W) per-class tensor, checked against the classes and channels in its meta."""
        value = tensors[key]
        if value.dim() != 4 or value.shape[:2] != (self.num_classes, self.channels):
            raise CheckpointError(f"{key} of shape {tuple(value.shape)} does not fit "
                             f"{self.num_classes} classes of {self.channels}-channel images")
        return value.float()
