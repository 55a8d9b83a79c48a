"""The DPF paper's ablations on a trained run: Table 3 (stationary functions), Table 4 (hook depth)
and the secondary attack of section 3.2.3.

Table 3 scores phi2 (top-1/5) and the straw man psi (L1, SSIM) on S-val features transformed by:
nothing, P, each stationary function (SPF) alone, and SPF then a DPF trained behind that SPF (the
paper's "SPF applied on top of the featurizer, prior to the DPF"; a DPF trained without the SPF in
front could not undo a blur it never saw, so each combination gets its own DPF).
Table 4 trains psi and P again at every hook of `hook_depths` on the same Phi.
Section 3.2.3: had P been released like an obfuscator, an attacker could make (z, P(phi1(z))) pairs
from public images and train a secondary reconstructor; we train that counterfactual attacker and
compare it with the best attacker the partial release allows (reconstructors trained on phi1(Q)).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from imageprivacy.attacks.dpf.reconstructors import STRAW_MAN
from imageprivacy.attacks.reconstructor_training import reconstruct
from imageprivacy.experiments.dpf.run import TrainedRun, run_key
from imageprivacy.experiments.dpf.stages import dpf_stage, reconstructor_stage
from imageprivacy.metrics.reconstruction import reconstruction_scores
from imageprivacy.nets.split_points import feature_shape, hook_points, split_at
from imageprivacy.protections.dpf import DPFConfig, build_stationary
from imageprivacy.training.feature_training import map_batches, topk_accuracy

SHORT = {"gaussian-noise": "GN", "gaussian-filter": "GF", "mean-filter": "MF"}


@torch.no_grad()
def _transform(fn: Callable, features: torch.Tensor, device) -> torch.Tensor:
    return torch.cat([fn(features[s:s + 256].to(device)).cpu() for s in range(0, len(features), 256)])


def feature_row(classifier, reconstructor, features: torch.Tensor, labels, images: torch.Tensor, device) -> dict:
    """One row of Tables 3/4: top-1/5 of the classifier and L1/SSIM of the reconstructor on `features`."""
    scores = reconstruction_scores(reconstruct(reconstructor, features, device), images.float() / 255.0)
    return {**topk_accuracy(classifier, features, labels, device=device), **scores}


def stationary_table(run: TrainedRun, run_dir: Path, original: torch.Tensor, progress) -> dict:
    cfg, device = run.cfg, run.cfg.device
    phi1, phi2 = run.split
    val, s = run.parts.private_val.images, run.parts.private_train.images
    feature_std = map_batches(phi1, s.images[:1000], device).std().item()

    def row(fn):
        return feature_row(phi2, run.psi, _transform(fn, original, device), val.labels, val.images, device)

    rows = {"w/o": row(lambda f: f), "DPF": row(run.poison)}
    for i, name in enumerate(cfg.stationary):
        rows[SHORT.get(name, name)] = row(build_stationary(name, feature_std, seed=cfg.seed + 41))
        progress("stage", {"stage": f"Table 3: a DPF behind {name}"})
        in_training = build_stationary(name, feature_std, seed=cfg.seed + 42)
        dpf = DPFConfig(channels=run.feature_shape[0], lam=cfg.dpf_lambda, epochs=cfg.dpf_epochs,
                        batch_size=cfg.batch_size)
        poison, _ = dpf_stage(run_dir / "eval" / "stationary" / f"{name}+dpf.safetensors", run_key(cfg, spf=name), dpf,
                              lambda x, spf=in_training: spf(phi1(x)), phi2, run.psi, s.images, s.labels, cfg,
                              progress, cfg.seed + 43 + i)
        in_eval = build_stationary(name, feature_std, seed=cfg.seed + 41)
        rows[f"{SHORT.get(name, name)}+DPF"] = row(lambda f, spf=in_eval, p=poison: p(spf(f)))
    return {"feature_std": feature_std, "relative_noise_std": 0.5, "rows": rows}


def hook_depth_table(run: TrainedRun, run_dir: Path, progress) -> dict:
    cfg, device = run.cfg, run.cfg.device
    val, s, q = run.parts.private_val.images, run.parts.private_train.images, run.parts.public_train.images
    rows = {"raw image": topk_accuracy(run.net, val.float(), val.labels, device=device)}
    available = hook_points(run.net)
    for i, hook in enumerate(cfg.hook_depths):
        if hook not in available:
            rows[hook] = {"skipped": f"{cfg.backbone} has no hook {hook} (it has {', '.join(available)})"}
            continue
        phi1, phi2 = split_at(run.net, hook)
        shape = feature_shape(phi1, tuple(val.images.shape[1:]))
        if hook == cfg.hook:
            psi, poison = run.psi, run.poison
        else:
            progress("stage", {"stage": f"Table 4: psi and P at {hook} {shape}"})
            folder, key = run_dir / "eval" / "hooks" / hook, run_key(cfg, hook=hook)
            psi, _ = reconstructor_stage(folder / "reconstructor.safetensors", key, STRAW_MAN, phi1, shape, q.images,
                                         cfg.psi_epochs, cfg, progress, cfg.seed + 50 + i)
            dpf = DPFConfig(channels=shape[0], lam=cfg.dpf_lambda, epochs=cfg.dpf_epochs, batch_size=cfg.batch_size)
            poison, _ = dpf_stage(folder / "poisoning_function.safetensors", key, dpf, phi1, phi2, psi, s.images,
                                  s.labels, cfg, progress, cfg.seed + 55 + i)
        original = map_batches(phi1, val.images, device)
        rows[hook] = {"feature_shape": list(shape),
                      "original": feature_row(phi2, psi, original, val.labels, val.images, device),
                      "poisoned": feature_row(phi2, psi, _transform(poison, original, device), val.labels,
                                              val.images, device)}
    return rows


def secondary_attack(run: TrainedRun, run_dir: Path, poisoned: torch.Tensor, unseen: dict, progress) -> dict:
    cfg = run.cfg
    progress("stage", {"stage": "section 3.2.3: a secondary reconstructor, as if P had been released"})
    model, _ = reconstructor_stage(run_dir / "eval" / "secondary" / f"{STRAW_MAN}.safetensors",
                                   run_key(cfg, "attack_epochs"), STRAW_MAN,
                                   lambda x: run.poison(run.split.featurizer(x)), run.feature_shape,
                                   run.parts.public_train.images.images, cfg.attack_epochs, cfg, progress,
                                   cfg.seed + 45)
    val = run.parts.private_val.images
    released = reconstruction_scores(reconstruct(model, poisoned, cfg.device), val.float())
    best = max(unseen, key=lambda name: unseen[name]["poisoned"]["ssim"])
    return {"obfuscator_released": {"reconstructor": STRAW_MAN, **released},
            "partial_release_best": {"reconstructor": best, **unseen[best]["poisoned"]}}
