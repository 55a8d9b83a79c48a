"""The trained stages of a DeepObfuscator run, each cached in one safetensors file with its `run` key.

A stage whose file holds the same key (run.run_key) is loaded instead of trained; any other
key, or no file, trains it and overwrites the file. Every stage seeds itself, and every stage that
trains takes its images from `split.training_part(...)`, which refuses the test images.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from torch import nn

from imageprivacy.data.task_split import TaskSplit
from imageprivacy.experiments.obfuscator.run import ObfuscatorExperimentConfig, run_key
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams
from imageprivacy.nets.obfuscator_nets import ObfuscatorArch
from imageprivacy.nets.weights_file import load_state, read_tensors, save_module
from imageprivacy.protections.obfuscator import (DeepObfuscator, ImageNoise, pretrain_adversaries, pretrain_task_model,
                                                 train_adversarially)

STAGE_KIND = "deepobfuscator-stage"
ATTACKER_KIND = "deepobfuscator-attacker"
ADVERSARY_FIELDS = ("adversary_epochs", "attack_lr")
ADVERSARIAL_FIELDS = (*ADVERSARY_FIELDS, "adversarial_epochs", "lr", "attribute_loss", "adversaries", "reset_every",
                      "reset_warmup_steps", "feature_noise")


@dataclass
class ObfuscatorRun:
    """What every stage needs: config, folder, split, architecture, MS-SSIM parameters."""
    cfg: ObfuscatorExperimentConfig
    run_dir: Path
    split: TaskSplit
    arch: ObfuscatorArch
    params: MSSSIMParams

    @property
    def about(self) -> dict:
        s = self.split
        return {"data": self.cfg.data, "task": s.task.spec, "private": s.private.spec, "task_names": s.task.names,
                "task_attributes": list(s.task.attributes), "private_names": s.private.names}

    def new_net(self, noise_std: float = 0.0) -> DeepObfuscator:
        """Fresh modules; with stochastic features their noise is seeded by the run (feature_noise.py)."""
        return DeepObfuscator(self.arch, self.split.task.num_classes, self.split.private.num_classes, self.about,
                              noise_std, self.cfg.seed + 7)


def cached(path: Path, kind: str, key: str, model: nn.Module, train: Callable[[nn.Module], dict], device,
           extra: dict | None = None) -> tuple[nn.Module, dict]:
    """(model, history): loaded from `path` when trained under `key`, else trained by `train` and saved."""
    if path.is_file():
        tensors, saved = read_tensors(path, kind)
        if saved.get("run") == key:
            return load_state(model, tensors, path).to(device).eval(), saved.get("history")
    history = train(model)
    save_module(path, model, kind, {"run": key, "history": history, **(extra or {})})
    return model.eval(), history


def pretrained_stage(run: ObfuscatorRun, progress) -> tuple[DeepObfuscator, dict]:
    """O + C trained on the task without privacy: the baseline "without adversarial training"."""
    cfg, part = run.cfg, run.split.training_part("defender")
    return cached(run.run_dir / "work" / "pretrained.safetensors", STAGE_KIND, run_key(cfg), run.new_net(),
                  lambda net: pretrain_task_model(net, part.images, part.task, cfg.pretrain_epochs, cfg.batch_size,
                                                  cfg.device, cfg.seed, progress=progress), cfg.device)


def adversaries_stage(run: ObfuscatorRun, pretrained: DeepObfuscator, progress) -> tuple[DeepObfuscator, dict]:
    """The pretrained O + C with AR and AC pretrained on O's features (section 3.5)."""
    cfg, part = run.cfg, run.split.training_part("defender")

    def train(net: DeepObfuscator) -> dict:
        net.load_state_dict(pretrained.state_dict())
        return pretrain_adversaries(net, part.images, part.private, cfg.adversary_epochs, cfg.batch_size, cfg.attack_lr,
                                    run.params, cfg.device, cfg.seed + 1, progress)
    return cached(run.run_dir / "work" / "adversaries.safetensors", STAGE_KIND, run_key(cfg, *ADVERSARY_FIELDS),
                  run.new_net(), train, cfg.device)


def adversarial_stage(run: ObfuscatorRun, path: Path, start: DeepObfuscator, lambda_attribute: float,
                      lambda_reconstruction: float, progress) -> tuple[DeepObfuscator, dict]:
    """Algorithm 1 from the pretrained modules with the given lambdas (main setting, ablations, curve)."""
    cfg, part = run.cfg, run.split.training_part("defender")
    adv = cfg.adversarial(lambda_attribute, lambda_reconstruction, cfg.seed + 3)

    def train(net: DeepObfuscator) -> dict:
        net.load_state_dict(start.state_dict())
        return train_adversarially(net, part.images, part.task, part.private, adv, run.params, cfg.device,
                                   cfg.seed + 2, progress)
    key = run_key(cfg, *ADVERSARIAL_FIELDS, lambda_attribute=lambda_attribute,
                  lambda_reconstruction=lambda_reconstruction)
    return cached(path, STAGE_KIND, key, run.new_net(cfg.feature_noise), train, cfg.device,
                  {"adversarial": adv.to_dict()})


def noise_stage(run: ObfuscatorRun, std: float, progress) -> tuple[DeepObfuscator, dict]:
    """O + C trained on images with Gaussian noise of `std` (the noise baseline)."""
    cfg, part = run.cfg, run.split.training_part("defender")
    return cached(run.run_dir / "eval" / "noise" / "modules.safetensors", STAGE_KIND, run_key(cfg, noise_std=std),
                  run.new_net(),
                  lambda net: pretrain_task_model(net, part.images, part.task, cfg.pretrain_epochs, cfg.batch_size,
                                                  cfg.device, cfg.seed + 4, noise=ImageNoise(std), progress=progress),
                  cfg.device, {"noise_std": std})


def feature_noise_stage(run: ObfuscatorRun, std: float, progress) -> tuple[DeepObfuscator, dict]:
    """O + C trained on the task with Gaussian noise of `std` at O's output, no adversary: the noise-only
    baseline of the privacy-utility curve (the lever of feature_noise.py without Algorithm 1)."""
    cfg, part = run.cfg, run.split.training_part("defender")
    return cached(run.run_dir / "eval" / f"feature_noise={std:g}" / "modules.safetensors", STAGE_KIND,
                  run_key(cfg, feature_noise_std=std), run.new_net(std),
                  lambda net: pretrain_task_model(net, part.images, part.task, cfg.pretrain_epochs, cfg.batch_size,
                                                  cfg.device, cfg.seed + 6, progress=progress),
                  cfg.device, {"feature_noise": std})


def attacker_stage(run: ObfuscatorRun, path: Path, key: str, model: nn.Module, train: Callable[[nn.Module], dict],
                   name: str) -> tuple[nn.Module, dict]:
    """A fresh attacker `name`, trained by `train` on the attacker part (the caller's featurize)."""
    run.split.training_part("attacker")
    return cached(path, ATTACKER_KIND, key, model, train, run.cfg.device, {"attacker": name})
