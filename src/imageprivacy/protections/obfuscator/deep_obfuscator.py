"""The four modules DeepObfuscator trains together (paper Fig. 3), kept in one nn.Module.

O (obfuscator) and C (classifier) are what a service deploys; AR (adversary reconstructor) and AC
(adversary classifier) simulate the attacker during training and are never deployed. One module
saves all four to one safetensors file per training stage, so a stage is cached as a whole.
"""
from __future__ import annotations

from torch import nn

from imageprivacy.nets.obfuscator_nets import FeatureClassifier, MirrorReconstructor, ObfuscatorArch
from imageprivacy.protections.obfuscator.obfuscator import Obfuscator


class DeepObfuscator(nn.Module):
    def __init__(self, arch: ObfuscatorArch, task_classes: int, private_classes: int, about: dict | None = None):
        super().__init__()
        self.arch = arch
        self.obfuscator = Obfuscator(arch, about)
        self.classifier = FeatureClassifier(arch, task_classes)
        self.reconstructor = MirrorReconstructor(arch)
        self.adversary = FeatureClassifier(arch, private_classes)

    def config(self) -> dict:
        return {"arch": self.arch.to_dict(), "task_classes": self.classifier.num_classes,
                "private_classes": self.adversary.num_classes, "about": self.obfuscator.about}

    @classmethod
    def from_config(cls, config: dict) -> "DeepObfuscator":
        return cls(ObfuscatorArch.from_dict(config["arch"]), config["task_classes"], config["private_classes"],
                   config.get("about"))
