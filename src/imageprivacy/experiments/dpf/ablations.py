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
from imageprivacy.experiments.dpf.run import ATTACK_FIELDS, DPF_FIELDS, TrainedRun, dpf_config, run_key
from imageprivacy.experiments.dpf.scoring import public_remap, reconstructor_scores
from imageprivacy.experiments.dpf.stages import decoder_refresher, decoder_stages, dpf_stage, reconstructor_stage
from imageprivacy.nets.split_points import feature_shape, hook_points, split_at
from imageprivacy.protections.dpf import build_stationary
from imageprivacy.training.feature_training import map_batches, topk_accuracy

SHORT = {"gaussian-noise": "GN", "gaussian-filter": "GF", "mean-filter": "MF"}


@torch.no_grad()
def _transform(fn: Callable, features: torch.Tensor, device) -> torch.Tensor:
    return torch.cat([fn(features[s:s + 256].to(device)).cpu() for s in range(0, len(features), 256)])


def feature_row(classifier, reconstructor, features: torch.Tensor, labels, images: torch.Tensor, remap,
                device) -> dict:
    """One row of Tables 3/4: top-1/5 of the classifier and the reconstructor's scores (scoring.py) on `features`."""
    scores, _ = reconstructor_scores(reconstructor, features, images, remap, device)
    return {**topk_accuracy(classifier, features, labels, device=device), **scores}


def stationary_table(run: TrainedRun, run_dir: Path, original: torch.Tensor, progress) -> dict:
    cfg, device = run.cfg, run.cfg.device
    phi1, phi2 = run.split
    val, s = run.parts.private_val.images, run.parts.private_train.images
    feature_std = map_batches(phi1, s.images[:1000], device).std().item()
    remap = public_remap(run.psi, phi1, run.parts.public_val.images.images, device)

    def row(fn):
        return feature_row(phi2, run.psi, _transform(fn, original, device), val.labels, val.images, remap, device)

    rows = {"w/o": row(lambda f: f), "DPF": row(run.poison)}
    q = run.parts.public_train.images.images
    refresh = decoder_refresher(cfg, phi1, run.feature_shape, q, progress, cfg.seed + 4)
    for i, name in enumerate(cfg.stationary):
        rows[SHORT.get(name, name)] = row(build_stationary(name, feature_std, seed=cfg.seed + 41))
        progress("stage", {"stage": f"Table 3: a DPF behind {name}"})
        in_training = build_stationary(name, feature_std, seed=cfg.seed + 42)
        poison, _ = dpf_stage(run_dir / "eval" / "stationary" / f"{name}+dpf.safetensors",
                              run_key(cfg, *DPF_FIELDS, spf=name), dpf_config(cfg, run.feature_shape[0]),
                              lambda x, spf=in_training: spf(phi1(x)), phi2, run.decoders, s.images, s.labels, cfg,
                              progress, cfg.seed + 43 + i, refresh=refresh)
        in_eval = build_stationary(name, feature_std, seed=cfg.seed + 41)
        rows[f"{SHORT.get(name, name)}+DPF"] = row(lambda f, spf=in_eval, p=poison: p(spf(f)))
    return {"feature_std": feature_std, "relative_noise_std": 0.5, "rows": rows}


def hook_depth_table(run: TrainedRun, run_dir: Path, progress) -> dict:
    cfg, device = run.cfg, run.cfg.device
    val, s, q = run.parts.private_val.images, run.parts.private_train.images, run.parts.public_train.images
    q_val = run.parts.public_val.images.images
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
            decoders, _ = decoder_stages(folder / "decoders", key, cfg, phi1, shape, q.images, psi, progress,
                                         cfg.seed + 70 + 10 * i)
            poison, _ = dpf_stage(folder / "poisoning_function.safetensors", run_key(cfg, *DPF_FIELDS, hook=hook),
                                  dpf_config(cfg, shape[0]), phi1, phi2, decoders, s.images, s.labels, cfg, progress,
                                  cfg.seed + 55 + i,
                                  refresh=decoder_refresher(cfg, phi1, shape, q.images, progress, cfg.seed + 4))
        original = map_batches(phi1, val.images, device)
        remap = public_remap(psi, phi1, q_val, device)
        rows[hook] = {"feature_shape": list(shape),
                      "original": feature_row(phi2, psi, original, val.labels, val.images, remap, device),
                      "poisoned": feature_row(phi2, psi, _transform(poison, original, device), val.labels,
                                              val.images, remap, device)}
    return rows


def secondary_attack(run: TrainedRun, run_dir: Path, poisoned: torch.Tensor, unseen: dict, progress) -> dict:
    cfg = run.cfg
    progress("stage", {"stage": "section 3.2.3: a secondary reconstructor, as if P had been released"})
    featurize = lambda x: run.poison(run.split.featurizer(x))         # noqa: E731 - this attacker holds P
    model, history = reconstructor_stage(run_dir / "eval" / "secondary" / f"{STRAW_MAN}.safetensors",
                                         run_key(cfg, *ATTACK_FIELDS, *DPF_FIELDS), STRAW_MAN, featurize,
                                         run.feature_shape, run.parts.public_train.images.images, cfg.attack_epochs,
                                         cfg, progress, cfg.seed + 45, early_stopping=True)
    remap = public_remap(model, featurize, run.parts.public_val.images.images, cfg.device)
    released, _ = reconstructor_scores(model, poisoned, run.parts.private_val.images.images, remap, cfg.device)
    best = max(unseen, key=lambda name: unseen[name]["poisoned"]["attacker_side"]["ssim"])
    return {"obfuscator_released": {"reconstructor": STRAW_MAN, **released, "training": history},
            "partial_release_best": {"reconstructor": best, **unseen[best]["poisoned"]}}
