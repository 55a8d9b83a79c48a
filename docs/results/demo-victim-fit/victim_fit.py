"""Clean paper-recipe victims on the demo's 4k split with other batch sizes: fit on their own images, test accuracy, seconds.

    python docs/results/demo-victim-fit/victim_fit.py base:25:128,bs64:25:64   # name:epochs:batch_size,...

Writes victims.json beside this file (the demo's split, seed 0, width 16; issue 14 item 4 asks the clean
victim to fit >= 0.95 of its training images).
"""
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.experiments.provenance import provenance
from imageprivacy.experiments.unlearnable.demo import DemoConfig, load_split

cfg = DemoConfig()
train, test = load_split(cfg)
rows = []
for name, epochs, batch in (v.split(":") for v in sys.argv[1].split(",")):
    recipe = victim_recipe("paper", epochs=int(epochs), width=cfg.victim_width)
    recipe = replace(recipe, train=replace(recipe.train, batch_size=int(batch)))
    start = time.perf_counter()
    run = train_victim(train, test, recipe, seed=cfg.seed)
    rows.append({"name": name, "epochs": int(epochs), "batch_size": int(batch),
                 "seconds": round(time.perf_counter() - start, 1), "train_fit_acc": run["train_fit_acc"],
                 "final": run["test_acc"][-1], "best": max(run["test_acc"])})
    print(json.dumps(rows[-1]), flush=True)
out = Path(__file__).with_name("victims.json")
out.write_text(json.dumps({"victims": rows, **provenance("cpu")}, indent=1))
