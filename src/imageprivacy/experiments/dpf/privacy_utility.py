"""The privacy-utility curve of a DPF run (issue 16, item 4): phi2's top-1 on S-val against what fresh attackers
recover, over the DPF's knob lambda, beside the no-defence and noise-only baselines on the same axes.

- leakage: the attacker-side SSIM (scoring.py) of the strongest reconstructor among psi and every unseen one.
  They are trained on phi1(Q), which no P changes, so the very same attackers score every point, and each
  point keeps every attacker's score;
- "DPF": P at the run's lambda and at each of `curve_lambdas`, each trained like the main P (its decoders, its
  objective), cached under RUN_DIR/eval/curve/;
- "noise only": Gaussian noise on phi1's features, std = each of `curve_noise` x the clean features' std
  (measured on S-train, as Table 3's), one seeded draw;
- "no defence": phi1's features as they are.
The best content-free reference (scoring.content_free) is the floor on the leakage axis.
"""
from __future__ import annotations

from pathlib import Path

import torch

from imageprivacy.experiments.dpf.run import DPF_FIELDS, TrainedRun, dpf_config, run_key
from imageprivacy.experiments.dpf.scoring import reconstructor_scores
from imageprivacy.experiments.dpf.stages import decoder_refresher, dpf_stage
from imageprivacy.metrics.content_free import best_reference
from imageprivacy.protections.dpf import build_stationary
from imageprivacy.training.feature_training import map_batches, topk_accuracy

MEASURE = {"key": "ssim", "label": "attacker-side SSIM of the strongest fresh reconstructor"}


@torch.no_grad()
def _apply(fn, features: torch.Tensor, device) -> torch.Tensor:
    return torch.cat([fn(features[s:s + 256].to(device)).cpu() for s in range(0, len(features), 256)])


def _point(run: TrainedRun, found, remaps, features: torch.Tensor, knob) -> dict:
    val, device = run.parts.private_val.images, run.cfg.device
    each = {name: reconstructor_scores(model, features, val.images, remaps[name], device)[0]["attacker_side"]["ssim"]
            for name, model, _ in found}
    strongest = max(each, key=each.get)
    return {"knob": knob, "task_accuracy": topk_accuracy(run.split.classifier, features, val.labels, ks=(1,),
                                                         device=device)["top1"],
            "leakage": {"ssim": each[strongest]}, "strongest": strongest, "each": each}


def privacy_utility(run: TrainedRun, run_dir: Path, found, remaps: dict, original: torch.Tensor, refs: dict,
                    progress) -> dict:
    """{"knob", "task", "measures", "series": {name: [point]}, "floor"}; `found` are (name, model, history) of
    the attackers, `remaps` their public remaps, `original` phi1(S-val), `refs` the content-free references."""
    cfg, device = run.cfg, run.cfg.device
    s, q = run.parts.private_train.images, run.parts.public_train.images.images
    series = {"no defence": [_point(run, found, remaps, original, None)], "DPF": [], "noise only": []}
    for i, lam in enumerate(sorted({cfg.dpf_lambda, *cfg.curve_lambdas})):
        poison = run.poison
        if lam != cfg.dpf_lambda:
            progress("stage", {"stage": f"privacy-utility curve: P at lambda {lam:g}"})
            poison, _ = dpf_stage(run_dir / "eval" / "curve" / f"lambda={lam:g}.safetensors",
                                  run_key(cfg, *DPF_FIELDS, dpf_lambda=lam), dpf_config(cfg, run.feature_shape[0],
                                                                                        lam=lam),
                                  run.split.featurizer, run.split.classifier, run.decoders, s.images, s.labels, cfg,
                                  progress, cfg.seed + 80 + i,
                                  refresh=decoder_refresher(cfg, run.split.featurizer, run.feature_shape, q, progress,
                                                            cfg.seed + 4))
        series["DPF"].append(_point(run, found, remaps, _apply(poison, original, device), lam))
    feature_std = map_batches(run.split.featurizer, s.images[:1000], device).std().item()
    for relative in cfg.curve_noise:
        noise = build_stationary("gaussian-noise", feature_std, relative_std=relative, seed=cfg.seed + 90)
        series["noise only"].append(_point(run, found, remaps, _apply(noise, original, device), relative))
    floor = best_reference(refs, "ssim")
    return {"knob": {"DPF": "lambda", "noise only": "noise std / feature std"},
            "task": "phi2 top-1 on S-val", "measures": [{**MEASURE, "floor": floor[1], "floor_name": floor[0]}],
            "feature_std": feature_std, "series": series}
