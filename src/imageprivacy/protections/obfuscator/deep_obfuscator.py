"""The four modules DeepObfuscator trains together (paper Fig. 3), kept in one nn.Module.

O (obfuscator) and C (classifier) are what a service deploys; AR (adversary reconstructor) and AC
(adversary classifier) simulate the attacker during training and are never deployed. One module
saves all four to one safetensors file per training stage, so a stage is cached as a whole.

`fit` runs the whole training (section 3.5's pretraining, then Algorithm 1) in one call, with the
seeds the experiment's stages use (experiments/obfuscator/stages.py); `encode` is what the phone runs.
The experiment trains the stages one by one instead, so that each is cached and resumes.
"""
from __future__ import annotations

import torch
from torch import nn

from imageprivacy.metrics.multiscale_ssim import MSSSIMParams
from imageprivacy.nets.obfuscator_nets import FeatureClassifier, MirrorReconstructor, ObfuscatorArch
from imageprivacy.protections.obfuscator.adversarial_training import AdversarialConfig, train_adversarially
from imageprivacy.protections.obfuscator.obfuscator import Obfuscator
from imageprivacy.protections.obfuscator.pretraining import pretrain_adversaries, pretrain_task_model


class DeepObfuscator(nn.Module):
    def __init__(self, arch: ObfuscatorArch, task_classes: int, private_classes: int, about: dict | None = None,
                 noise_std: float = 0.0, noise_seed: int | None = None):
        super().__init__()
        self.arch = arch
        self.obfuscator = Obfuscator(arch, about, noise_std, noise_seed)
        self.classifier = FeatureClassifier(arch, task_classes)
        self.reconstructor = MirrorReconstructor(arch)
        self.adversary = FeatureClassifier(arch, private_classes)
        self.fit_record: dict = {}          # each training stage's history, from the last fit

    def fit(self, images: torch.Tensor, task: torch.Tensor, private: torch.Tensor,
            adversarial: AdversarialConfig | None = None, pretrain_epochs: int = 10, adversary_epochs: int = 5,
            attack_lr: float = 1e-3, params: MSSSIMParams | None = None, device="cpu", seed: int = 0,
            progress=None) -> "DeepObfuscator":
        """Pretrain O + C on the task, then AR and AC, then Algorithm 1, on uint8 `images`; returns self."""
        adversarial = adversarial or AdversarialConfig(noise_seed=seed + 3)
        params = params or MSSSIMParams.for_size(*images.shape[2:])
        batch = adversarial.batch_size
        self.fit_record = {
            "pretraining": pretrain_task_model(self, images, task, pretrain_epochs, batch, device, seed,
                                               progress=progress),
            "adversaries": pretrain_adversaries(self, images, private, adversary_epochs, batch, attack_lr, params,
                                                device, seed + 1, progress),
            "adversarial": train_adversarially(self, images, task, private, adversarial, params, device, seed + 2,
                                               progress)}
        return self

    def encode(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """The obfuscated features of uint8 or [0, 1] images: what the deployed obfuscator sends."""
        return self.obfuscator.encode(images, batch_size)

    def config(self) -> dict:
        return {"arch": self.arch.to_dict(), "task_classes": self.classifier.num_classes,
                "private_classes": self.adversary.num_classes, "about": self.obfuscator.about,
                "noise_std": self.obfuscator.noise.std}

    @classmethod
    def from_config(cls, config: dict, noise_seed: int | None = None) -> "DeepObfuscator":
        return cls(ObfuscatorArch.from_dict(config["arch"]), config["task_classes"], config["private_classes"],
                   config.get("about"), config.get("noise_std", 0.0), noise_seed)
