"""New images: does a soft pattern mix (hard_at_protect off) protect better than the argmax pattern?

Per seed: ConfounderGAN (train-generator's defaults) fitted on 10k training images A, protecting 10k
disjoint images B with (1) the argmax pattern (default) and (2) the softmax mix of the patterns; a
paper-recipe victim (ResNet-18 w16, 10 epochs) on each protected B; class-wise noise on B with B's true
labels beside it. Writes soft_selection.jsonl (one line per victim).
"""
import json
import sys
import time

import torch

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.experiments.unlearnable.protection_factory import CLASSWISE_BAR, fit_and_protect, fit_protection
from imageprivacy.metrics.image_quality import protection_quality

SIZE, EPS, OUT = 10_000, 16 / 255, "docs/results/ood-selection/soft_selection.jsonl"
seeds = [int(s) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else [0, 1]
full = load_dataset("fashion-mnist", split="train")
test = load_dataset("fashion-mnist", split="test").random_subset(2_000, seed=10_000)
recipe = victim_recipe("paper", epochs=10, width=16)
for seed in seeds:
    order = full.shuffled_indices(seed)
    a, b = full.subset(order[:SIZE]), full.subset(order[SIZE:2 * SIZE])
    method, fit_s = fit_protection("confoundergan", a, EPS, "cpu", seed)
    gen = method.generator
    with torch.no_grad():
        pred = torch.cat([gen.mixing_logits(b.images[i:i + 512].float() / 255).argmax(1)
                          for i in range(0, len(b), 512)])
    agreement = float((pred == b.labels).float().mean())
    sets = {}
    for name, hard in (("hard", True), ("soft", False)):
        gen.cfg.hard_at_protect = hard
        sets[name] = method.protect_set(b)
    gen.cfg.hard_at_protect = True
    sets["classwise-true-labels"] = fit_and_protect("classwise", b, EPS, "cpu", seed, **CLASSWISE_BAR)[1]
    for name, data in sets.items():
        start = time.perf_counter()
        run = train_victim(data, test, recipe, seed=seed)
        row = {"seed": seed, "selection": name, "fit_seconds": fit_s, "selector_agreement_unseen": agreement,
               "quality": protection_quality(b.images, data.images), "victim_seconds": time.perf_counter() - start,
               "final": run["final_test_acc"], "best": run["best_test_acc"], "test_acc": run["test_acc"],
               "train_fit_acc": run["train_fit_acc"]}
        print(json.dumps({k: row[k] for k in ("seed", "selection", "selector_agreement_unseen", "final", "best")}),
              row["quality"]["psnr_mean_db"], flush=True)
        with open(OUT, "a") as f:
            f.write(json.dumps(row) + "\n")
