"""The DPF paper's evaluation of a trained run, on the private validation images S-val.

- Table 1: top-1 / top-5 of phi2 on phi1(x) vs P(phi1(x)) (top-5 is 100 % by definition when S has
  at most 5 classes, as the Fashion-MNIST default does: the report says so);
- Table 2: L1 and SSIM of psi's reconstructions from original vs poisoned features;
- Fig. 7: the reconstructors P never saw, trained on all of Q-train but a held-out slice until their L1 on it
  stops falling (their curves are kept), scored the same way;
- every reconstruction row raw and attacker-side (scoring.py), beside the content-free references;
- the privacy-utility curve (privacy_utility.py);
- Tables 3, 4, section 3.2.3 (ablations.py), reusability (reusability.py), 4.4 (random_labels.py);
- Fig. 6 / 7 image grid: raw, then each reconstructor from original and from poisoned features,
  saved as uint8 rows in images.safetensors (the report draws it).
"""
from __future__ import annotations

from pathlib import Path

import torch

from imageprivacy.attacks.dpf.reconstructors import STRAW_MAN
from imageprivacy.experiments.dpf.ablations import hook_depth_table, secondary_attack, stationary_table
from imageprivacy.experiments.dpf.random_labels import random_label_variant
from imageprivacy.experiments.dpf.reusability import reusability
from imageprivacy.experiments.dpf.privacy_utility import privacy_utility
from imageprivacy.experiments.dpf.run import ATTACK_FIELDS, TrainedRun, run_key
from imageprivacy.experiments.dpf.scoring import content_free, public_remap, reconstructor_scores
from imageprivacy.experiments.dpf.stages import reconstructor_stage
from imageprivacy.experiments.run_folder import save_rows
from imageprivacy.training.feature_training import map_batches, topk_accuracy

GRID_COLUMNS = 8
PSI = f"{STRAW_MAN} (psi)"


@torch.no_grad()
def private_val_features(run: TrainedRun) -> tuple[torch.Tensor, torch.Tensor]:
    """(phi1(S-val), P(phi1(S-val))) as float32 on the CPU."""
    device = run.cfg.device
    original = map_batches(run.split.featurizer, run.parts.private_val.images.images, device)
    poisoned = torch.cat([run.poison(original[s:s + 256].to(device)).cpu() for s in range(0, len(original), 256)])
    return original, poisoned


def reconstruction_pair(model, original: torch.Tensor, poisoned: torch.Tensor, images: torch.Tensor,
                        remap, device) -> tuple[dict, dict, torch.Tensor, torch.Tensor]:
    """Scores (and reconstructions) of `model` from original and from poisoned features (scoring.py)."""
    before, from_original = reconstructor_scores(model, original, images, remap, device)
    after, from_poisoned = reconstructor_scores(model, poisoned, images, remap, device)
    return before, after, from_original, from_poisoned


def attackers(run: TrainedRun, run_dir: Path, progress) -> list[tuple[str, object, dict | None]]:
    """(name, model, training history) of psi and of every unseen reconstructor, trained on all of Q-train but a
    held-out slice, until their L1 on it stops falling (stages.reconstructor_stage, early_stopping)."""
    cfg = run.cfg
    key = run_key(cfg, *ATTACK_FIELDS)
    found = [(PSI, run.psi, None)]
    for i, name in enumerate(cfg.unseen_reconstructors):
        progress("stage", {"stage": f"unseen reconstructor {name} on the public classes"})
        model, history = reconstructor_stage(run_dir / "eval" / "reconstructors" / f"{name}.safetensors", key, name,
                                             run.split.featurizer, run.feature_shape,
                                             run.parts.public_train.images.images, cfg.attack_epochs, cfg, progress,
                                             cfg.seed + 10 + i, early_stopping=True)
        found.append((name, model, history))
    return found


def unseen_reconstructors(run: TrainedRun, found, original, poisoned) -> tuple[dict, dict, dict]:
    """Fig. 7: ({name: scores}, {name: remap}, grid rows) for psi and each reconstructor trained on Q."""
    cfg, images = run.cfg, run.parts.private_val.images.images
    q_val = run.parts.public_val.images.images
    table, rows, remaps = {}, {}, {}
    for name, model, history in found:
        remaps[name] = public_remap(model, run.split.featurizer, q_val, cfg.device)
        before, after, rec_o, rec_p = reconstruction_pair(model, original, poisoned, images, remaps[name], cfg.device)
        table[name] = {"original": before, "poisoned": after, **({"training": history} if history else {})}
        rows[f"{name} from original"], rows[f"{name} from poisoned"] = rec_o[:GRID_COLUMNS], rec_p[:GRID_COLUMNS]
    return table, remaps, rows


def evaluate_trained_run(run: TrainedRun, run_dir: Path, progress) -> dict:
    cfg, device = run.cfg, run.cfg.device
    val = run.parts.private_val.images
    original, poisoned = private_val_features(run)
    progress("stage", {"stage": "Tables 1 and 2: phi2 and psi on original vs poisoned features"})
    classification = {"original": topk_accuracy(run.split.classifier, original, val.labels, device=device),
                      "poisoned": topk_accuracy(run.split.classifier, poisoned, val.labels, device=device)}
    q = run.parts.public_val.images
    found = attackers(run, run_dir, progress)
    unseen, remaps, rows = unseen_reconstructors(run, found, original, poisoned)
    psi_on_q, _ = reconstructor_scores(run.psi, map_batches(run.split.featurizer, q.images, device), q.images,
                                       remaps[PSI], device)
    refs = content_free(run)
    results = {
        "experiment": "dpf", "config": cfg.to_dict(),
        "seeds": {"phi": cfg.seed, "psi": cfg.seed + 1, "dpf": cfg.seed + 2, "unseen": cfg.seed + 10,
                  "phi3": cfg.seed + 30, "ablations": cfg.seed + 40, "random_labels": cfg.seed + 60},
        "sizes": run.parts.sizes(), "num_private_classes": len(run.parts.private_classes),
        "feature_shape": list(run.feature_shape), "training": run.histories,
        "classification": classification,
        "reconstruction": {**unseen[PSI], "public_val_original": psi_on_q},
        "unseen_reconstructors": unseen, "content_free": refs,
        "decoders": list(cfg.dpf_decoders),
    }
    results["stationary"] = stationary_table(run, run_dir, original, progress)
    results["reusability"] = reusability(run, run_dir, original, poisoned, progress)
    if cfg.secondary_attack:
        results["secondary_attack"] = secondary_attack(run, run_dir, poisoned, unseen, progress)
    if cfg.curve_lambdas or cfg.curve_noise:
        results["privacy_utility"] = privacy_utility(run, run_dir, found, remaps, original, refs, progress)
    if cfg.hook_depths:
        results["hook_depth"] = hook_depth_table(run, run_dir, progress)
    if cfg.coarse_groups:
        results["random_labels"] = random_label_variant(run, run_dir, progress)
    grid = {"raw": val.float()[:GRID_COLUMNS], **rows}
    results["image_grid"] = save_rows(grid, run_dir / "images.safetensors")
    return results
