"""Reusability of a DPF release (paper 3.2.3, Fig. 4 green box): can others train on what was shared?

Everything here starts from release/ as loaded by `Release.load`, the way a downstream user would:
- phi3: a freshly initialised copy of phi2's architecture trained only on the released poisoned
  features, scored on features of new images (phi1 of S-val, never poisoned: a user featurizes
  their own images with the released phi1) and on poisoned S-val features; compared with Phi.
- phi4: the same, trained on the released features plus clean features of new images T (a seeded
  half of S-val), scored on the other half, next to Phi and phi3 on that half.
"""
from __future__ import annotations

from pathlib import Path

import torch

from imageprivacy.experiments.dpf.run import TrainedRun, run_key
from imageprivacy.experiments.dpf.stages import feature_classifier_stage
from imageprivacy.protections.dpf import Release
from imageprivacy.training.feature_training import topk_accuracy


def reusability(run: TrainedRun, run_dir: Path, original: torch.Tensor, poisoned: torch.Tensor, progress) -> dict:
    cfg, device = run.cfg, run.cfg.device
    labels = run.parts.private_val.images.labels
    release = Release.load(run_dir / "release", device)
    bank = release.features.float()
    key = run_key(cfg, "phi3_epochs", "bank_dtype")
    progress("stage", {"stage": "reusability: phi3 trained on the released poisoned features only"})
    phi3, phi3_history = feature_classifier_stage(run_dir / "eval" / "phi3.safetensors", key, run.spec, cfg.hook,
                                                  bank, release.labels, cfg.phi3_epochs, cfg, progress,
                                                  cfg.seed + 30)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(cfg.seed + 31))
    new, held = order[: len(order) // 2], order[len(order) // 2:]
    progress("stage", {"stage": "reusability: phi4 on the released features plus new images' clean features"})
    phi4, phi4_history = feature_classifier_stage(run_dir / "eval" / "phi4.safetensors", key, run.spec, cfg.hook,
                                                  torch.cat([bank, original[new]]),
                                                  torch.cat([release.labels, labels[new]]), cfg.phi3_epochs, cfg,
                                                  progress, cfg.seed + 32)

    def acc(model, features, y):
        return topk_accuracy(model, features, y, device=device)

    return {
        "released_bank": {"features": len(bank), "dtype": release.manifest["feature_dtype"],
                          "phi2_on_bank": acc(release.classifier, bank, release.labels)},
        "phi": acc(run.split.classifier, original, labels),
        "phi3": {"new_images": acc(phi3, original, labels), "poisoned": acc(phi3, poisoned, labels),
                 "history": phi3_history},
        "phi4": {"new_images_added": len(new), "held_out": len(held),
                 "phi_held_out": acc(run.split.classifier, original[held], labels[held]),
                 "phi3_held_out": acc(phi3, original[held], labels[held]),
                 "phi4_held_out": acc(phi4, original[held], labels[held]), "history": phi4_history},
    }
