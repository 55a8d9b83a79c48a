"""Which of AutoAugment's operations lets a victim learn from ConfounderGAN-protected images?

    python docs/results/autoaugment-ablation/ablate.py [seeds] [variants] [set]   # e.g. 0,1 only-tone,full cwn:object-only

The 10k suite (docs/results/suite-10k-anti-template) leaves the paper-recipe victim at 0.788 when it
trains with AutoAugment (kornia's "cifar10" policy drawn per image, training/augment.py) on the suite's
own ConfounderGAN set, and at 0.083-0.092 with every other augmentation. Here the victim (same recipe,
5 epochs, width 16, crop + flip are *not* added: the suite's AutoAugment cell has none) trains on the
same cached protected set with the policy cut down to one family of operations at a time: each
sub-policy keeps only the operations of the family, and sub-policies left empty are dropped.
The set is a suite method's cached set (default confoundergan; rows written before the option existed say
"suite" for it, and "object-only" for confoundergan:object-only); ":object-only" keeps the noise only where the clean pixel is not 0 (the garment, not the black
background), to test whether noise that AutoAugment's contrast cannot clip away still protects.
Variant "none" trains without any augmentation. Writes results.jsonl beside this file (one line per
victim, appended).
"""
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from kornia.augmentation.auto.autoaugment.autoaugment import cifar10_policy

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.experiments.provenance import provenance
from imageprivacy.experiments.side_by_side import side_by_side
from imageprivacy.experiments.unlearnable.paper_suite import SuiteConfig, _load
from imageprivacy.experiments.unlearnable.protected_sets import ProtectedSets
from imageprivacy.training import augment

SUITE = Path("docs/results/suite-10k-anti-template")
FAMILIES = {
    "geometric": {"rotate", "translate_x", "translate_y", "shear_x", "shear_y"},
    "histogram": {"equalize", "auto_contrast"},
    "levels": {"invert", "solarize", "posterize"},
    "tone": {"contrast", "brightness", "sharpness", "color"},
}
OPS = set().union(*FAMILIES.values())
VARIANTS = {"full": None, **{f"only-{k}": v for k, v in FAMILIES.items()},
            "without-histogram": OPS - FAMILIES["histogram"], "without-tone": OPS - FAMILIES["tone"],
            **{f"only-{op}": {op} for op in ("contrast", "brightness", "sharpness")}}


def only_ops(keep: set[str] | None) -> augment.PerImageAutoAugment:
    """The cifar10 policy drawn per image, with every operation outside `keep` removed (None: all kept)."""
    policy = [[op for op in sub if keep is None or op[0] in keep] for sub in cifar10_policy]
    return augment.PerImageAutoAugment([sub for sub in policy if sub])


for name, keep in VARIANTS.items():
    augment.AUGMENTATIONS[f"aa-{name}"] = lambda size, keep=keep: only_ops(keep)

cfg = SuiteConfig(**json.loads((SUITE / "results.json").read_text())["config"])   # the suite's own sizes and options
train, test, attacker = _load(cfg)
sets = ProtectedSets(train, 16 / 255, cfg.options, SUITE, "cpu", 0, None, attacker)   # loads, never fits
SET = sys.argv[3] if len(sys.argv) > 3 else "confoundergan"
method, _, masking = SET.partition(":")
protected = sets.get(method, 1.0)
if masking == "object-only":      # uint8 images: keep the clean value wherever the clean pixel is black
    protected = replace(protected, images=torch.where(train.images == 0, train.images, protected.images))
seeds = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "0").split(",")]
chosen = sys.argv[2].split(",") if len(sys.argv) > 2 else list(VARIANTS)
jobs = [f"{v}:{s}" for s in seeds for v in chosen]


def run(job: str) -> dict:
    variant, seed = job.split(":")
    torch.manual_seed(int(seed))
    recipe = victim_recipe("paper", epochs=5, width=16, augment=() if variant == "none" else (f"aa-{variant}",))
    start = time.perf_counter()
    out = train_victim(protected, test, recipe, seed=int(seed))
    return {"variant": variant, "seed": int(seed), "set": SET, "seconds": round(time.perf_counter() - start, 1),
            "final": out["final_test_acc"], "best": out["best_test_acc"], "test_acc": out["test_acc"],
            "train_fit_acc": out["train_fit_acc"]}


with open(Path(__file__).with_name("results.jsonl"), "a") as f:
    for _, row in side_by_side(run, jobs, 2):
        row.update(provenance("cpu"))
        print(json.dumps({k: row[k] for k in ("set", "variant", "seed", "final", "best", "seconds")}), flush=True)
        f.write(json.dumps(row) + "\n")
