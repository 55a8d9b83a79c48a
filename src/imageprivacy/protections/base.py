"""The base class of every image protection: its contract, input checks, devices, batching, the 8-bit budget.

The contract (what experiments/, cli/ and the checkpoint code call, never probing with hasattr):
- `fit(data)` -> self and `protect(images, labels=None)`; `protect_set(data)` does both halves of an ImageSet;
- `fit_record`: what fitting measured about itself, {} by default (EMN's rounds, ConfounderGAN's losses);
- `label_consistency(data)`: None by default, for methods that pick no noise pattern per image;
- `fitted_protection()`: None by default; a method that crafts its training set's noise during fit
  (sample-wise EMN) returns that set, which `protect` would not reproduce;
- `checkpoint_state()` / `from_checkpoint(...)`: CheckpointError by default (checkpoint.py writes the file);
- `_row_noise(images, labels)`: None by default; a method whose noise can be computed a stripe of rows
  at a time returns how, and `protect` then never holds a large uint8 photo as float (ConfounderGAN's
  mixture generator does: an 8000x8000 photo in bounded memory, benchmarks/protect_memory.py).
"""
from __future__ import annotations

from typing import Callable

import torch

from imageprivacy.data.input_checks import check_images, check_labels
from imageprivacy.errors import CheckpointError, ConfigurationError, MissingLabelsError, NotFittedError
from imageprivacy.protections.pixel_budget import apply_noise_in_stripes, apply_noise_uint8
from imageprivacy.training.accelerator import to_device

Progress = Callable[[str, dict], None]   # progress(event, values): the only way code below cli reports

PROTECTIONS: dict[str, type["Protection"]] = {}
# Values of a batch above which uint8 images are protected in stripes of rows of about this many values
# (when the method allows it): a full-batch computation holds several float copies of the batch at
# once, and copies that outgrow the caches cost time as well as memory. 1M values (4 MB as float): a
# 1024x1024 photo took 24 ms alone and 24 ms per photo five at a time, against 46 and 76 ms as one
# block (one thread; benchmarks/results/protect_stripes.json).
STRIPE_VALUES = 1 << 20


def register(cls: type["Protection"]) -> type["Protection"]:
    """Class decorator: make a protection reachable by its `name` from the CLI and experiments."""
    PROTECTIONS[cls.name] = cls
    return cls


class Protection:
    """One protection method. Subclasses implement `_fit` (optional) and `_noise`.

    `protect` takes uint8 (N, C, H, W) and returns uint8, or float in [0, 1] and returns float in
    [0, 1]; for a `bounded` method (every one but class-wise patches) the change of every pixel is
    within `epsilon`.
    """

    name = "protection"
    needs_labels_to_fit = True
    needs_labels_to_protect = False
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
        self.num_classes: int | None = None      # set by methods whose noise is chosen by class
        self.class_names: list[str] = []        # what label k means; checkpoints keep it
        self.fit_record: dict = {}
        # What fit saw, for whoever loads the checkpoint later (the web page shows it): the data set's
        # short name (never a local path, see data/image_folder.py), its size and image shape; {} when
        # the checkpoint predates it.
        self.fitted_on: dict = {}

    # --- public API -------------------------------------------------------------------------
    def fit(self, data, progress: Progress | None = None) -> "Protection":
        """Learn whatever the method needs from an ImageSet; returns self."""
        if self.needs_labels_to_fit:
            data.require_labels(f"{type(self).__name__}.fit")
        self.channels = data.channels
        self.class_names = list(data.class_names)
        self.fitted_on = {"data": data.name, "images": len(data), "image_shape": list(data.images.shape[1:])}
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
        if labels is not None:
            check_labels(labels, images.shape[0], self.num_classes)
        out = []
        for start in range(0, images.shape[0], self.batch_size):
            chunk = images[start:start + self.batch_size]
            # Methods compute in float32 whatever the caller's float type; the result keeps the caller's.
            y = None if labels is None else labels[start:start + self.batch_size].to(self.device)
            rows = self._row_noise(chunk, y) if as_uint8 and self.bounded and chunk.numel() > STRIPE_VALUES \
                else None
            if rows is not None:
                out.append(apply_noise_in_stripes(chunk, rows, self.epsilon, STRIPE_VALUES))
                continue
            # The chunk travels as it is (uint8: a quarter of float32's bytes), through pinned memory to a GPU.
            x = to_device(chunk, self.device)
            x = x.float() / 255.0 if as_uint8 else x.float()
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
        return torch.cat(out)

    def protect_set(self, data):
        """An ImageSet's images protected, with its labels when the method needs them; same labels and classes."""
        labels = data.labels if self.needs_labels_to_protect else None
        return data.with_images(self.protect(data.images, labels), name=f"{data.name}+{self.name}")

    def label_consistency(self, data) -> float | None:
        """Share of `data` whose noise pattern is the one most images of their class get; None: no pattern to pick."""
        return None

    def fitted_protection(self):
        """The training set as protected during fit, for methods that craft its noise there; None otherwise."""
        return None

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

    def _row_noise(self, images: torch.Tensor, labels: torch.Tensor | None):
        """How to compute the noise of uint8 `images` a stripe of rows at a time: a function (r0, r1) -> the
        float noise of rows r0..r1, equal to those rows of `_noise`; None (the default): the whole image at once."""
        return None

    def _modules(self) -> list[torch.nn.Module]:
        return []

    def _repr_fields(self) -> dict:
        return {"epsilon": f"{self.epsilon * 255:g}/255", "device": str(self.device)}

    # --- checkpoints (checkpoint.py writes and reads the file) --------------------------------
    def checkpoint_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        """(tensors, meta): what rebuilds the fitted method; meta comes from `_checkpoint_meta`."""
        raise CheckpointError(f"{type(self).__name__} has nothing to save in a checkpoint")

    @classmethod
    def from_checkpoint(cls, tensors: dict, meta: dict, device="cpu") -> "Protection":
        raise CheckpointError(f"{cls.__name__} cannot be rebuilt from a checkpoint")

    def _checkpoint_meta(self, options: dict, **state) -> dict:
        """Constructor `options`, fitted `state` (+ num_classes, fit record), channels, class names, `fitted_on`."""
        return {"options": options, "state": {"num_classes": self.num_classes, "fit_record": self.fit_record, **state},
                "channels": self.channels, "class_names": self.class_names, "fitted_on": self.fitted_on}

    @classmethod
    def _from_meta(cls, meta: dict, device) -> tuple["Protection", dict]:
        """A fitted-looking instance rebuilt from `_checkpoint_meta`'s output, plus its state dict.

        Missing keys or options the constructor rejects raise KeyError / TypeError / ValueError,
        which `load_protection` turns into a CheckpointError.
        """
        self = cls(**meta["options"], device=device)
        state = dict(meta.get("state", {}))
        self.channels = int(meta["channels"])
        self.class_names = list(meta.get("class_names", []))
        self.num_classes = None if state.get("num_classes") is None else int(state["num_classes"])
        self.fit_record = dict(state.get("fit_record", {}))
        self.fitted_on = dict(meta.get("fitted_on", {}))
        self.fitted = True
        return self, state

    def _class_tensor(self, tensors: dict, key: str) -> torch.Tensor:
        """A checkpoint's (K, C, H, W) per-class tensor, checked against the classes and channels in its meta."""
        value = tensors[key]
        if value.dim() != 4 or value.shape[:2] != (self.num_classes, self.channels):
            raise CheckpointError(f"{key} of shape {tuple(value.shape)} does not fit "
                                  f"{self.num_classes} classes of {self.channels}-channel images")
        return value.float()
