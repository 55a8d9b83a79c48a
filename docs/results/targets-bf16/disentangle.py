"""60k: the bf16-trained generator's protected set; victims (paper w16, 10 ep) at other seeds/precisions. SPEC=seed:precision,..."""
import sys, json, time, torch
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.protections import load_protection
from imageprivacy.training.accelerator import set_precision
train = load_dataset("fashion-mnist", split="train"); test = load_dataset("fashion-mnist", split="test")
ps = load_protection(sys.argv[1]).protect_set(train)
for spec in sys.argv[2].split(","):
    seed, precision = spec.split(":"); set_precision(precision)
    t = time.perf_counter()
    row = train_victim(ps, test, victim_recipe("paper", epochs=10, width=16), seed=int(seed))
    print(json.dumps({"seed": int(seed), "precision": precision, "final": row["final_test_acc"], "best": row["best_test_acc"],
                      "fit": round(row["train_fit_acc"], 4), "curve": [round(a, 4) for a in row["test_acc"]], "s": round(time.perf_counter() - t)}), flush=True)
