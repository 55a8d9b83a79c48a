"""The demo's clean victim at equal or lower cost: more images, fewer epochs (seed 0, the demo's split).

Each row: a paper-recipe victim (ResNet-18 w16) on the first N images of the demo's seeded order for E
epochs, tested on the demo's 2k test images; writes clean_budget.jsonl.
"""
import json
import sys
import time

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.experiments.unlearnable.demo import DemoConfig, load_demo_split

OUT = "docs/results/demo-budget/clean_budget.jsonl"
for spec in sys.argv[1].split(","):
    n, epochs = (int(v) for v in spec.split("x"))
    train, _, test = load_demo_split(DemoConfig(train_size=n))
    start = time.perf_counter()
    run = train_victim(train, test, victim_recipe("paper", epochs=epochs, width=16), seed=0)
    row = {"train_size": n, "epochs": epochs, "seconds": time.perf_counter() - start, "final": run["final_test_acc"],
           "best": run["best_test_acc"], "train_fit_acc": run["train_fit_acc"], "test_acc": run["test_acc"]}
    print(json.dumps({k: row[k] for k in ("train_size", "epochs", "seconds", "final", "train_fit_acc")}), flush=True)
    with open(OUT, "a") as f:
        f.write(json.dumps(row) + "\n")
