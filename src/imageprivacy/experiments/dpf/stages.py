"""The trained stages of a DPF run, each cached in one safetensors file with its `run` key.

A stage whose file holds the same key (run.run_key) is loaded instead of trained; any other
key, or no file, trains it and overwrites the file. Every stage seeds itself from `seed`.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch

from imageprivacy.attacks.dpf.reconstructors import (STRAW_MAN, build_reconstructor, load_reconstructor,
                                                     save_reconstructor)
from imageprivacy.attacks.reconstructor_training import train_reconstructor
from imageprivacy.data.imageset import ImageSet
from imageprivacy.experiments.dpf.run import DPFExperimentConfig
from imageprivacy.nets.split_points import BackboneSpec, build_split
from imageprivacy.nets.weights_file import load_state, read_tensors, save_module
from imageprivacy.protections.dpf import DeepPoisoningFunction, DPFConfig
from imageprivacy.protections.dpf.dpf_training import Refresh
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
                        epochs: int, cfg: DPFExperimentConfig, progress, seed: int, early_stopping: bool = False):
    """A reconstructor `name` trained with L1 on (images, featurize(images)).

    `early_stopping` (the evaluation's attackers): a seeded `attack_val_fraction` of `images` is held out,
    `epochs` is a cap, and training stops when the L1 on the held-out slice has not fallen for
    `attack_patience` epochs (attacks.reconstructor_training); the curve is in the history.
    """
    if path.is_file():
        model, saved = load_reconstructor(path, cfg.device)
        if saved.get("run") == key:
            return model, saved.get("history")
    torch.manual_seed(seed)
    model = build_reconstructor(name, feature_shape, tuple(images.shape[1:]))
    validation, patience = None, None
    if early_stopping:
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
        held = max(1, round(cfg.attack_val_fraction * len(images)))
        validation, images, patience = images[order[:held]], images[order[held:]], cfg.attack_patience
    history = train_reconstructor(model, featurize, images, epochs, cfg.batch_size, device=cfg.device, seed=seed,
                                  progress=progress, validation=validation, patience=patience)
    save_reconstructor(model, path, {"run": key, "history": history})
    return model, history


def decoder_stages(folder: Path, key: str, cfg: DPFExperimentConfig, featurize: Callable, feature_shape,
                   images: torch.Tensor, psi, progress, seed: int) -> tuple[list, dict]:
    """The frozen reconstructors P trains against (cfg.dpf_decoders): psi for "px2s2", the others trained on
    (images, featurize(images)) like psi, cached in `folder`."""
    models, histories = [], {}
    for i, name in enumerate(cfg.dpf_decoders):
        if name == STRAW_MAN:
            models.append(psi)
            continue
        progress("stage", {"stage": f"decoder {name} for P's ensemble, on the public classes"})
        model, histories[name] = reconstructor_stage(folder / f"{name}.safetensors", key, name, featurize,
                                                     feature_shape, images, cfg.psi_epochs, cfg, progress,
                                                     seed + i)
        models.append(model)
    return models, histories


def decoder_refresher(cfg: DPFExperimentConfig, featurize: Callable, feature_shape, images: torch.Tensor, progress,
                      seed: int) -> Refresh | None:
    """What DPFConfig.refresh_every calls: every name of cfg.dpf_decoders built anew (a seed per epoch) and
    trained `dpf_refresh_epochs` on the public images, featurized as cfg.dpf_refresh_on says."""
    if not cfg.dpf_refresh_every:
        return None

    def refresh(epoch: int, poison) -> list:
        feat = featurize if cfg.dpf_refresh_on == "clean" else (lambda x: poison(featurize(x)))
        models = []
        for i, name in enumerate(cfg.dpf_decoders):
            progress("stage", {"stage": f"P epoch {epoch}: decoder {name} retrained ({cfg.dpf_refresh_on} features)"})
            torch.manual_seed(seed + 100 * epoch + i)
            model = build_reconstructor(name, feature_shape, tuple(images.shape[1:]))
            train_reconstructor(model, feat, images, cfg.dpf_refresh_epochs, cfg.batch_size, device=cfg.device,
                                seed=seed + 100 * epoch + i, progress=progress)
            models.append(model)
        return models
    return refresh


def dpf_stage(path: Path, key: str, dpf: DPFConfig, featurize: Callable, classifier, byproducts, images, labels,
              cfg: DPFExperimentConfig, progress, seed: int, private_labels=None, extra: dict | None = None,
              refresh: Refresh | None = None):
    """A DPF trained behind `featurize` against the classifier and the frozen byproduct model(s)."""
    if path.is_file():
        poison, saved = DeepPoisoningFunction.load(path, cfg.device)
        if saved.get("run") == key:
            return poison, saved.get("history")
    torch.manual_seed(seed)
    poison = DeepPoisoningFunction(dpf).fit(featurize, classifier, byproducts, images, labels, private_labels,
                                            device=cfg.device, seed=seed, progress=progress, refresh=refresh)
    poison.save(path, {"run": key, "history": poison.fit_record, **(extra or {})})
    return poison, poison.fit_record
