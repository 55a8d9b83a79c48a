"""What a DeepObfuscator service deploys: the obfuscator O (on the phone) and the classifier C (in the cloud).

    from imageprivacy.obfuscator import Obfuscator
    obfuscator = Obfuscator.load(RUN_DIR)            # or the .safetensors file itself
    features = obfuscator(images)                    # float (N, C, H, W) in [0, 1] -> (N, 2w, H/4, W/4)

Each is one safetensors file (nets.weights_file) whose metadata holds the ObfuscatorArch and what
the model was trained for (data set, task, private attribute, label names), so the file alone
rebuilds it. An obfuscator trained with stochastic features (feature_noise.py) keeps its noise std
in the file and adds the noise on every call; `load` seeds it from the OS unless given a seed.
This API is stable: tools outside the package use it.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from imageprivacy.data.input_checks import check_images
from imageprivacy.errors import CheckpointError, InputShapeError
from imageprivacy.nets.obfuscator_nets import FeatureClassifier, ObfuscatorArch, ObfuscatorFront
from imageprivacy.nets.weights_file import load_state, read_tensors, save_module
from imageprivacy.protections.obfuscator.feature_noise import FeatureNoise

OBFUSCATOR_FILE, CLASSIFIER_FILE = "obfuscator.safetensors", "classifier.safetensors"
OBFUSCATOR_KIND, CLASSIFIER_KIND = "deepobfuscator-obfuscator", "deepobfuscator-classifier"


def _file(path: str | Path, name: str) -> Path:
    path = Path(path)
    return path / name if path.is_dir() else path


class Obfuscator(nn.Module):
    """O: images in [0, 1] -> obfuscated features; `about` says what it was trained for."""

    def __init__(self, arch: ObfuscatorArch, about: dict | None = None, noise_std: float = 0.0,
                 noise_seed: int | None = None):
        super().__init__()
        self.arch, self.about = arch, dict(about or {})
        self.front = ObfuscatorFront(arch)
        self.noise = FeatureNoise(noise_std, noise_seed)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.arch.channels, *self.arch.image_size)

    @property
    def feature_shape(self) -> tuple[int, int, int]:
        return self.arch.feature_shape()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images, self.arch.channels)
        if tuple(images.shape[2:]) != self.arch.image_size:
            raise InputShapeError(f"this obfuscator takes {self.arch.image_size[0]}x{self.arch.image_size[1]} images, "
                                  f"got {images.shape[2]}x{images.shape[3]}; resize them first (data.image_fitting)")
        return self.noise(self.front(images))

    @torch.no_grad()
    def encode(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Features of uint8 or [0, 1] float images, in eval mode, batch by batch, on the module's device."""
        self.eval()
        device = next(self.parameters()).device
        out = []
        for s in range(0, len(images), batch_size):
            x = images[s:s + batch_size].to(device)
            out.append(self(x.float() / 255.0 if x.dtype == torch.uint8 else x.float()).cpu())
        return torch.cat(out) if out else torch.zeros((0, *self.feature_shape))

    def save(self, path: str | Path) -> Path:
        """Write the obfuscator to `path` (a run folder gets obfuscator.safetensors)."""
        # The noise's std is saved, never its seed (feature_noise.py says why).
        return save_module(_file(path, OBFUSCATOR_FILE), self, OBFUSCATOR_KIND,
                           {"arch": self.arch.to_dict(), "about": self.about, "noise_std": self.noise.std})

    @classmethod
    def load(cls, path: str | Path, device="cpu", noise_seed: int | None = None) -> "Obfuscator":
        """The obfuscator of a run folder (or a file written by `save`), in eval mode; its feature noise (if
        it was trained with any) seeded by `noise_seed`, or by the OS when None."""
        file = _file(path, OBFUSCATOR_FILE)
        tensors, config = read_tensors(file, OBFUSCATOR_KIND)
        try:
            arch = ObfuscatorArch.from_dict(config["arch"])
            noise_std = float(config.get("noise_std", 0.0))
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{file}: unreadable obfuscator config ({err})") from err
        return load_state(cls(arch, config.get("about"), noise_std, noise_seed), tensors, file).to(device).eval()


def save_classifier(path: str | Path, classifier: FeatureClassifier, about: dict | None = None) -> Path:
    """Write C (a run folder gets classifier.safetensors); `about` should name its labels."""
    return save_module(_file(path, CLASSIFIER_FILE), classifier, CLASSIFIER_KIND,
                       {"arch": classifier.arch.to_dict(), "num_classes": classifier.num_classes, "about": about or {}})


def load_classifier(path: str | Path, device="cpu") -> tuple[FeatureClassifier, dict]:
    """(C in eval mode, what it was saved with) from a run folder or classifier file."""
    file = _file(path, CLASSIFIER_FILE)
    tensors, config = read_tensors(file, CLASSIFIER_KIND)
    model = FeatureClassifier(ObfuscatorArch.from_dict(config["arch"]), config["num_classes"])
    return load_state(model, tensors, file).to(device).eval(), config.get("about", {})
