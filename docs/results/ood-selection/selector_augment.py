"""New images: does a selector fitted on augmented batches (crop, flip) pick the right pattern more often?

The split, fit and victim of soft_selection.py (10k images A fitted, 10k others B protected, paper victim
10 epochs), with `selector_augment` set; the rows without augmentation are soft_selection.jsonl's "hard"
rows (the same seeds give the same fit). Writes selector_augment.jsonl.
"""
import json
import sys
import time

import torch

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.experiments.unlearnable.protection_factory import fit_protection
from imageprivacy.metrics.image_quality import protection_quality

SIZE, EPS, OUT = 10_000, 16 / 255, "docs/results/ood-selection/selector_augment.jsonl"
augment = sys.argv[2] if len(sys.argv) > 2 else "crop,flip"
full = load_dataset("fashion-mnist", split="train")
test = load_dataset("fashion-mnist", split="test").random_subset(2_000, seed=10_000)
for seed in (int(s) for s in sys.argv[1].split(",")):
    order = full.shuffled_indices(seed)
    a, b = full.subset(order[:SIZE]), full.subset(order[SIZE:2 * SIZE])
    method, fit_s = fit_protection("confoundergan", a, EPS, "cpu", seed, selector_augment=augment)
    with torch.no_grad():
        pred = torch.cat([method.generator.mixing_logits(b.images[i:i + 512].float() / 255).argmax(1)
                          for i in range(0, len(b), 512)])
    protected = method.protect_set(b)
    start = time.perf_counter()
    run = train_victim(protected, test, victim_recipe("paper", epochs=10, width=16), seed=seed)
    row = {"seed": seed, "selector_augment": augment, "fit_seconds": fit_s,
           "selector": method.fit_record["selector"], "selector_agreement_unseen": float((pred == b.labels).float().mean()),
           "quality": protection_quality(b.images, protected.images), "victim_seconds": time.perf_counter() - start,
           "final": run["final_test_acc"], "best": run["best_test_acc"], "test_acc": run["test_acc"]}
    print(json.dumps({k: row[k] for k in ("seed", "selector_augment", "selector_agreement_unseen", "final", "best")}),
          row["selector"]["agreement"], len(row["selector"]["epochs"]), flush=True)
    with open(OUT, "a") as f:
        f.write(json.dumps(row) + "\n")
