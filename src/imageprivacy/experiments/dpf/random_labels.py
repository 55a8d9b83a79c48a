"""Section 4.4's variant: a DPF against a classifier-type byproduct attack, trained toward random labels.

The paper's target task is head-pose regression and its byproduct attack face identification.
Our analogue on Fashion-MNIST (any labelled data): the target task is a coarse group of classes
(`coarse_groups`, e.g. tops / trousers+dresses / footwear / bags) and the private label is the fine
class, which an attacker reads from the features with a classifier.
- The attacker needs images labelled with the same fine classes, so this variant splits by images,
  not by classes: S (protected) and Q (the attacker's) are disjoint seeded draws from the train
  split of the classes in the groups; validation images come from the test split.
- Phi_c is trained on S with coarse labels; the straw-man attacker A (phi2's architecture with a
  fine-class head) on phi1(Q); then P with objective "random-labels" against A.
- Scored on S-val: phi2 coarse top-1 on original vs poisoned features, and the fine-class accuracy
  of A and of a freshly trained attacker A' (new seed, trained on phi1(Q) as an attacker would)
  on both. Chance levels: uniform over fine classes, and guessing within the right coarse group
  (what any attacker gets from the coarse information the release must keep).
"""
from __future__ import annotations

from pathlib import Path

import torch

from imageprivacy.data import load_dataset
from imageprivacy.data.class_groups import group_labels, grouped_classes
from imageprivacy.data.class_partition import select_classes
from imageprivacy.data.imageset import ImageSet
from imageprivacy.experiments.dpf.run import TrainedRun, run_key
from imageprivacy.experiments.dpf.stages import dpf_stage, feature_classifier_stage, phi_stage
from imageprivacy.nets.split_points import BackboneSpec, feature_shape, split_at
from imageprivacy.protections.dpf import DPFConfig
from imageprivacy.training.feature_training import map_batches, topk_accuracy


def random_label_variant(run: TrainedRun, run_dir: Path, progress) -> dict:
    cfg, device = run.cfg, run.cfg.device
    groups = tuple(tuple(g) for g in cfg.coarse_groups)
    classes = grouped_classes(groups)
    train = select_classes(load_dataset(cfg.data, split="train", data_dir=cfg.data_dir), classes, None, cfg.seed)
    val = select_classes(load_dataset(cfg.data, split="test", data_dir=cfg.data_dir), classes,
                         cfg.private_val_size, cfg.seed + 61).images
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(cfg.seed + 62))
    n_s = min(cfg.private_train_size or len(order) // 2, len(order) // 2)
    n_q = min(cfg.public_train_size or len(order) - n_s, len(order) - n_s)
    s, q = train.images.subset(order[:n_s].sort().values), train.images.subset(order[n_s:n_s + n_q].sort().values)
    s_coarse, val_coarse = group_labels(s.labels, groups, classes), group_labels(val.labels, groups, classes)
    folder, key = run_dir / "eval" / "random_labels", run_key(cfg, "coarse_groups", "phi3_epochs")
    spec = BackboneSpec(cfg.backbone, s.channels, len(groups), cfg.width)
    progress("stage", {"stage": f"section 4.4: Phi on {len(groups)} coarse groups"})
    net, _ = phi_stage(folder / "phi.safetensors", key, spec, ImageSet(s.images, s_coarse),
                       ImageSet(val.images, val_coarse), cfg, progress, cfg.seed + 63)
    phi1, phi2 = split_at(net, cfg.hook)
    shape = feature_shape(phi1, tuple(s.images.shape[1:]))
    attacker_spec = BackboneSpec(cfg.backbone, s.channels, len(classes), cfg.width)
    q_features = map_batches(phi1, q.images, device, out_dtype=torch.float16)
    attackers = {}
    for name, seed in (("straw_man", cfg.seed + 64), ("fresh", cfg.seed + 65)):
        progress("stage", {"stage": f"section 4.4: {name} fine-class attacker on phi1(Q)"})
        attackers[name], _ = feature_classifier_stage(folder / f"attacker_{name}.safetensors", key, attacker_spec,
                                                      cfg.hook, q_features, q.labels, cfg.phi3_epochs, cfg,
                                                      progress, seed)
    progress("stage", {"stage": "section 4.4: P toward random fine labels"})
    dpf = DPFConfig(channels=shape[0], objective="random-labels", lam=cfg.dpf_lambda, epochs=cfg.dpf_epochs,
                    batch_size=cfg.batch_size)
    poison, history = dpf_stage(folder / "poisoning_function.safetensors", key, dpf, phi1, phi2,
                                attackers["straw_man"], s.images, s_coarse, cfg, progress, cfg.seed + 66,
                                private_labels=s.labels)
    original = map_batches(phi1, val.images, device)
    poisoned = map_batches(lambda x: poison(phi1(x)), val.images, device)
    group_size = torch.tensor([len(g) for g in groups], dtype=torch.float)[val_coarse]

    def top1(model, features, labels):
        return topk_accuracy(model, features, labels, ks=(1,), device=device)["top1"]

    return {
        "groups": [list(g) for g in groups], "sizes": {"protected": len(s), "attacker": len(q), "val": len(val)},
        "coarse_top1": {"original": top1(phi2, original, val_coarse), "poisoned": top1(phi2, poisoned, val_coarse)},
        "attacker_fine_top1": {name: {"original": top1(m, original, val.labels),
                                      "poisoned": top1(m, poisoned, val.labels)} for name, m in attackers.items()},
        "chance": {"uniform": 1 / len(classes), "within_group": (1 / group_size).mean().item()},
        "dpf_history": history,
    }
