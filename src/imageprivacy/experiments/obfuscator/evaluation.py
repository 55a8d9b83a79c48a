"""Scoring one setting of a DeepObfuscator run with attackers trained from scratch on its frozen features.

For a setting (a featurizer O, or noise then O, and its classifier C), on the test part:
- intended-task accuracy of C;
- a fresh attribute attacker (C's architecture, as the paper's AC) trained on the attacker part's features and
  private labels, scored against the guessing level;
- fresh reconstructors (mirror AR, URec#1, URec#2, ResRec) trained with L(AR1) on the attacker part, scored by
  mean per-image MS-SSIM and PSNR (+ SSIM and L1 for comparison with the DPF runs), raw and attacker-side
  (metrics.attacker_side: the best of raw, negative, an intensity remap fitted on the attacker's own
  held-out images, never on the test part, and a per-image contrast stretch);
- when the setting has them, the simulated AR and AC of Algorithm 1 scored the same way: the numbers
  the authors' code reported, next to what a fresh attacker gets.
Every fresh attacker trains on the whole attacker part but a seeded held-out slice (`attack_val_fraction`),
until its validation score (reconstructors: loss; attribute attacker: accuracy) has not improved for
`attack_patience` epochs, at most `attack_epochs`, and keeps its best epoch; its curve is in the results.
Attackers get the same seeds in every setting, so settings differ only in their features.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from imageprivacy.attacks.obfuscator.attribute_inference import predict_labels, train_attribute_classifier
from imageprivacy.attacks.obfuscator.msssim_reconstruction import train_msssim_reconstructor
from imageprivacy.attacks.obfuscator.reconstructors import build_feature_reconstructor
from imageprivacy.attacks.reconstructor_training import reconstruct
from imageprivacy.data.attribute_task import label_accuracy
from imageprivacy.experiments.obfuscator.run import run_key
from imageprivacy.experiments.obfuscator.stages import ADVERSARIAL_FIELDS, ObfuscatorRun, attacker_stage
from imageprivacy.metrics.attacker_side import IntensityRemap, attacker_side_scores
from imageprivacy.metrics.content_free import PUBLIC_MEAN, content_free_references, label_mean_images
from imageprivacy.nets.obfuscator_nets import FeatureClassifier
from imageprivacy.protections.obfuscator import FeatureNoise
from imageprivacy.training.feature_training import map_batches

GRID_COLUMNS = 8
ATTACK_FIELDS = (*ADVERSARIAL_FIELDS, "attack_epochs", "attack_patience", "attack_val_fraction")
GROUP_MEAN = "mean image of the right group"


def attacker_slices(run: ObfuscatorRun) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, train private labels, held-out images, held-out private labels) of the attacker part."""
    part = run.split.training_part("attacker")
    order = torch.randperm(len(part), generator=torch.Generator().manual_seed(run.cfg.seed + 12))
    held = run.cfg.attack_held_out(len(part))
    val, train = order[:held].sort().values, order[held:].sort().values
    return part.images[train], part.private[train], part.images[val], part.private[val]


def reconstruction_quality(recon: torch.Tensor, images: torch.Tensor, run: ObfuscatorRun,
                           remap: IntensityRemap | None = None) -> dict:
    """Raw MS-SSIM, PSNR, SSIM, L1 of `recon` against uint8 `images`, and the attacker-side best under `remap`."""
    side = attacker_side_scores(recon, images.float() / 255.0, remap or IntensityRemap(), run.params)
    return {**side["raw"], "attacker_side": side["best"], "attacker_variant": side["best_variant"],
            "remap": side["remap"]}


def content_free(run: ObfuscatorRun) -> dict:
    """The references on the test part: blank, best constant, the attacker part's mean image and, for every test
    image, the mean attacker image of its task group (what features that keep the task give for free)."""
    a, t = run.split.training_part("attacker"), run.split.test
    means = label_mean_images(a.images, a.task, run.split.task.num_classes)
    return content_free_references(t.images.float() / 255.0, a.images, run.params, means, t.task, GROUP_MEAN)


def reconstruction_floor(refs: dict) -> dict:
    """The two references the report and targets name (kept under their earlier key)."""
    return {"task_mean_image": refs[GROUP_MEAN], "overall_mean_image": refs[PUBLIC_MEAN]}


def seed_noise(featurize: Callable, seed: int) -> None:
    """Restart every noise source of a setting's featurize from `seed`: the global generator (the image noise
    baseline draws from it) and the feature noise of a stochastic obfuscator (its own generator). Each use of the
    features (test, held-out slice, each attacker's training) starts from its own seed, so a cached attacker
    and a retrained one see the same numbers."""
    torch.manual_seed(seed)
    if isinstance(featurize, nn.Module):
        for module in featurize.modules():
            if isinstance(module, FeatureNoise):
                module.reseed(seed)


def _seeded(train: Callable[[nn.Module], dict], featurize: Callable, seed: int) -> Callable[[nn.Module], dict]:
    def run(model: nn.Module) -> dict:
        seed_noise(featurize, seed)
        return train(model)
    return run


def test_features(run: ObfuscatorRun, featurize: Callable) -> torch.Tensor:
    """The test part's features under `featurize` (its noise drawn from the test seed)."""
    seed_noise(featurize, run.cfg.seed + 9)
    return map_batches(featurize, run.split.test.images, run.cfg.device)


def task_accuracy(run: ObfuscatorRun, features: torch.Tensor, classifier) -> dict:
    """The intended-task accuracy of `classifier` on test features."""
    return label_accuracy(predict_labels(classifier, features, run.cfg.device), run.split.test.task,
                          run.split.task.attributes)


def evaluate_setting(run: ObfuscatorRun, name: str, featurize: Callable, classifier, reconstructors: tuple[str, ...],
                     key_values: dict, progress, simulated=None) -> tuple[dict, dict[str, torch.Tensor]]:
    """(scores of the setting, its image-grid rows); attackers cached under RUN_DIR/eval/<name>/."""
    cfg, split, device = run.cfg, run.split, run.cfg.device
    folder, key = run.run_dir / "eval" / name, run_key(cfg, *ATTACK_FIELDS, setting=name, **key_values)
    images, private, val_images, val_private = attacker_slices(run)
    test = split.test
    features = test_features(run, featurize)
    task_acc = task_accuracy(run, features, classifier)
    progress("stage", {"stage": f"{name}: fresh private-attribute attacker"})
    ac, ac_history = attacker_stage(
        run, folder / "attribute_attacker.safetensors", key, FeatureClassifier(run.arch, split.private.num_classes),
        _seeded(lambda m: train_attribute_classifier(m, featurize, images, private, cfg.attack_epochs, cfg.batch_size,
                                                     device, cfg.seed + 10, progress,
                                                     validation=(val_images, val_private),
                                                     patience=cfg.attack_patience), featurize, cfg.seed + 10),
        "attribute")
    private_acc = label_accuracy(predict_labels(ac, features, device), test.private, split.private.attributes)
    seed_noise(featurize, cfg.seed + 13)
    val_features = map_batches(featurize, val_images, device)
    scores, rows = {}, {}
    for i, rec_name in enumerate(reconstructors):
        progress("stage", {"stage": f"{name}: fresh reconstructor {rec_name}"})
        model, history = attacker_stage(
            run, folder / f"{rec_name}.safetensors", key, build_feature_reconstructor(rec_name, run.arch),
            _seeded(lambda m: train_msssim_reconstructor(m, featurize, images, cfg.attack_epochs, cfg.batch_size,
                                                         cfg.attack_lr, run.params, device, cfg.seed + 11 + i,
                                                         progress, validation=val_images,
                                                         patience=cfg.attack_patience),
                    featurize, cfg.seed + 11 + i), rec_name)
        remap = IntensityRemap.fit(reconstruct(model, val_features, device), val_images.float() / 255.0)
        recon = reconstruct(model, features, device)
        scores[rec_name] = {**reconstruction_quality(recon, test.images, run, remap), "final_loss": history["loss"][-1],
                            "training": history}
        rows[f"{name}: {rec_name}"] = recon[:GRID_COLUMNS]
    result = {"task_accuracy": task_acc, "private_attacker": {**private_acc, "history": ac_history},
              "reconstructors": scores}
    if simulated is not None:
        remap = IntensityRemap.fit(reconstruct(simulated.reconstructor, val_features, device),
                                   val_images.float() / 255.0)
        result["simulated_adversaries"] = {
            "reconstructor": reconstruction_quality(reconstruct(simulated.reconstructor, features, device),
                                                    test.images, run, remap),
            "attribute": label_accuracy(predict_labels(simulated.adversary, features, device), test.private,
                                        split.private.attributes)}
    return result, rows
