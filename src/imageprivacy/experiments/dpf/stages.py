"""The trained stages of a DPF run, each cached in one safetensors file with its `run` key.

A stage whose file holds the same key (run.run_key) is loaded instead of trained; any other
key, or no file, trains it and overwrites the file. Every stage seeds itself from `seed`.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch

from imageprivacy.attacks.dpf.reconstructors import build_reconstructor, load_reconstructor, save_reconstructor
from imageprivacy.attacks.reconstructor_training import train_reconstructor
from imageprivacy.data.imageset import ImageSet
from imageprivacy.experiments.dpf.run import DPFExperimentConfig
from imageprivacy.nets.split_points import BackboneSpec, build_split
from imageprivacy.nets.weights_file import load_state, read_tensors, save_module
from imageprivacy.protections.dpf import DeepPoisoningFunction, DPFConfig
from imageprivacy.training import TrainRecipe, train_classifier
from imageprivacy.training.feature_training import train_feature_classifier

# Phi: the ResNet protocol of the unlearnable-examples code (docs/background.md section 2).
PHI_RECIPE = dict(lr=0.1, momentum=0.9, weight_decay=5e-4, schedule="cosine", augment=("crop", "flip"))


def _cached(path: Path, kind: str, key: str):
    """(tensors, saved config) when `path` holds `kind` trained under `key`, else None."""
    if not path.is_file():
        return None
    tensors, saved = read_tensors(path, kind)
    return (tensors, saved) if saved.get("run") == key else None


def phi_stage(path: Path, key: str, spec: BackboneSpec, train: ImageSet, val: ImageSet, cfg: DPFExperimentConfig,
              progress, seed: int):
    """The classifier Phi trained on `train` (images), tested on `val` after every epoch."""
    hit = _cached(path, "dpf-backbone", key)
    if hit:
        return load_state(spec.build(), hit[0], path).to(cfg.device).eval(), hit[1].get("history")
    torch.manual_seed(seed)
    net = spec.build()
    recipe = TrainRecipe(epochs=cfg.phi_epochs, batch_size=cfg.batch_size, **PHI_RECIPE)
    history = train_classifier(net, train.images, train.labels, recipe, cfg.device, seed,
                               test=(val.images, val.labels), progress=progress).to_dict()
    save_module(path, net, "dpf-backbone", {"backbone": asdict(spec), "run": key, "history": history})
    return net.eval(), history


def feature_classifier_stage(path: Path, key: str, spec: BackboneSpec, hook: str, features: torch.Tensor,
                             labels: torch.Tensor, epochs: int, cfg: DPFExperimentConfig, progress, seed: int):
    """A fresh copy of the backbone's part after `hook` (phi3, an attacker) trained on features."""
    torch.manual_seed(seed)
    model = build_split(spec, hook).classifier
    hit = _cached(path, "dpf-feature-classifier", key)
    if hit:
        return load_state(model, hit[0], path).to(cfg.device).eval(), hit[1].get("history")
    recipe = TrainRecipe(epochs=epochs, batch_size=cfg.batch_size, augment=(),
                         **{k: v for k, v in PHI_RECIPE.items() if k != "augment"})
    history = train_feature_classifier(model, features, labels, recipe, cfg.device, seed, progress=progress).to_dict()
    save_module(path, model, "dpf-feature-classifier", {"backbone": asdict(spec), "hook": hook, "run": key,
                                                        "history": history})
    return model.eval(), history


def reconstructor_stage(path: Path, key: str, name: str, featurize: Callable, feature_shape, images: torch.Tensor,
                        epochs: int, cfg: DPFExperimentConfig, progress, seed: int):
    """A reconstructor `name` trained with L1 on (images, featurize(images))."""
    if path.is_file():
        model, saved = load_reconstructor(path, cfg.device)
        if saved.get("run") == key:
            return model, saved.get("history")
    torch.manual_seed(seed)
    model = build_reconstructor(name, feature_shape, tuple(images.shape[1:]))
    history = train_reconstructor(model, featurize, images, epochs, cfg.batch_size, device=cfg.device, seed=seed,
                                  progress=progress)
    save_reconstructor(model, path, {"run": key, "history": history})
    return model, history


def dpf_stage(path: Path, key: str, dpf: DPFConfig, featurize: Callable, classifier, byproduct, images, labels,
              cfg: DPFExperimentConfig, progress, seed: int, private_labels=None, extra: dict | None = None):
    """A DPF trained behind `featurize` against (classifier, byproduct)."""
    if path.is_file():
        poison, saved = DeepPoisoningFunction.load(path, cfg.device)
        if saved.get("run") == key:
            return poison, saved.get("history")
    torch.manual_seed(seed)
    poison = DeepPoisoningFunction(dpf).fit(featurize, classifier, byproduct, images, labels, private_labels,
                                            device=cfg.device, seed=seed, progress=progress)
    poison.save(path, {"run": key, "history": poison.fit_record, **(extra or {})})
    return poison, poison.fit_record
