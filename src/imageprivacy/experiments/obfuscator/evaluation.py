"""Scoring one setting of a DeepObfuscator run with attackers trained from scratch on its frozen features.

For a setting (a featurizer O, or noise then O, and its classifier C), on the test part:
- intended-task accuracy of C;
- a fresh attribute attacker (C's architecture, as the paper's AC) trained on the attacker part's
  features and private labels, scored against the guessing level;
- fresh reconstructors (mirror AR, URec#1, URec#2, ResRec) trained with L(AR1) on the attacker part,
  scored by mean per-image MS-SSIM and PSNR (+ SSIM and L1 for comparison with the DPF runs);
- when the setting has them, the simulated AR and AC of Algorithm 1 scored the same way: the numbers
  the authors' code reported, next to what a fresh attacker gets.
Attackers get the same seeds in every setting, so settings differ only in their features.
"""
from __future__ import annotations

from typing import Callable

import torch

from imageprivacy.attacks.obfuscator.attribute_inference import predict_labels, train_attribute_classifier
from imageprivacy.attacks.obfuscator.msssim_reconstruction import train_msssim_reconstructor
from imageprivacy.attacks.obfuscator.reconstructors import build_feature_reconstructor
from imageprivacy.attacks.reconstructor_training import reconstruct
from imageprivacy.data.attribute_task import label_accuracy
from imageprivacy.experiments.obfuscator.run import run_key
from imageprivacy.experiments.obfuscator.stages import ADVERSARIAL_FIELDS, ObfuscatorRun, attacker_stage
from imageprivacy.metrics.multiscale_ssim import image_similarity
from imageprivacy.metrics.reconstruction import reconstruction_scores
from imageprivacy.nets.obfuscator_nets import FeatureClassifier
from imageprivacy.training.feature_training import map_batches

GRID_COLUMNS = 8
ATTACK_FIELDS = (*ADVERSARIAL_FIELDS, "attack_epochs")


def reconstruction_quality(recon: torch.Tensor, images: torch.Tensor, run: ObfuscatorRun) -> dict:
    x = images.float() / 255.0
    dpf_style = reconstruction_scores(recon, x)
    return {**image_similarity(recon, x, run.params), "ssim": dpf_style["ssim"], "l1": dpf_style["l1"]}


def task_mean_floor(run: ObfuscatorRun) -> dict:
    """MS-SSIM / PSNR of the mean defender image of each test image's task label: what the task alone gives.

    The features must keep the task, so any attacker can draw the average image of the right task
    class; this is the reconstruction analogue of the guessing level.
    """
    d, t = run.split.defender, run.split.test
    means = torch.stack([d.images[d.task == c].float().mean(0) if (d.task == c).any() else d.images.float().mean(0)
                         for c in range(run.split.task.num_classes)]) / 255.0
    overall = d.images.float().mean(0, keepdim=True) / 255.0
    x = t.images.float() / 255.0
    return {"task_mean_image": image_similarity(means[t.task], x, run.params),
            "overall_mean_image": image_similarity(overall.expand_as(x), x, run.params)}


def evaluate_setting(run: ObfuscatorRun, name: str, featurize: Callable, classifier, reconstructors: tuple[str, ...],
                     key_values: dict, progress, simulated=None) -> tuple[dict, dict[str, torch.Tensor]]:
    """(scores of the setting, its image-grid rows); attackers cached under RUN_DIR/eval/<name>/."""
    cfg, split, device = run.cfg, run.split, run.cfg.device
    folder, key = run.run_dir / "eval" / name, run_key(cfg, *ATTACK_FIELDS, setting=name, **key_values)
    attacker, test = split.training_part("attacker"), split.test
    torch.manual_seed(cfg.seed + 9)                     # the noise baseline's featurize draws noise
    features = map_batches(featurize, test.images, device)
    task_acc = label_accuracy(predict_labels(classifier, features, device), test.task, split.task.attributes)
    progress("stage", {"stage": f"{name}: fresh private-attribute attacker"})
    ac, ac_history = attacker_stage(
        run, folder / "attribute_attacker.safetensors", key, FeatureClassifier(run.arch, split.private.num_classes),
        lambda m: train_attribute_classifier(m, featurize, attacker.images, attacker.private, cfg.attack_epochs,
                                             cfg.batch_size, device, cfg.seed + 10, progress), "attribute")
    private_acc = label_accuracy(predict_labels(ac, features, device), test.private, split.private.attributes)
    scores, rows = {}, {}
    for i, rec_name in enumerate(reconstructors):
        progress("stage", {"stage": f"{name}: fresh reconstructor {rec_name}"})
        model, history = attacker_stage(
            run, folder / f"{rec_name}.safetensors", key, build_feature_reconstructor(rec_name, run.arch),
            lambda m: train_msssim_reconstructor(m, featurize, attacker.images, cfg.attack_epochs, cfg.batch_size,
                                                 cfg.attack_lr, run.params, device, cfg.seed + 11 + i, progress),
            rec_name)
        recon = reconstruct(model, features, device)
        scores[rec_name] = {**reconstruction_quality(recon, test.images, run), "final_loss": history["loss"][-1]}
        rows[f"{name}: {rec_name}"] = recon[:GRID_COLUMNS]
    result = {"task_accuracy": task_acc, "private_attacker": {**private_acc, "history": ac_history},
              "reconstructors": scores}
    if simulated is not None:
        recon = reconstruct(simulated.reconstructor, features, device)
        result["simulated_adversaries"] = {
            "reconstructor": reconstruction_quality(recon, test.images, run),
            "attribute": label_accuracy(predict_labels(simulated.adversary, features, device), test.private,
                                        split.private.attributes)}
    return result, rows
