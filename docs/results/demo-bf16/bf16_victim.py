"""Clean 3k victim (paper recipe w16): fp32 vs CPU bf16 autocast, batch sizes. Usage: MODE BATCH EPOCHS N"""
import sys, time, json, contextlib, torch
from dataclasses import replace
import imageprivacy.training.classifier_training as ct
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
mode, bs, ep, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if mode == "bf16":
    ct.mixed_precision = lambda d: torch.autocast("cpu", dtype=torch.bfloat16)
tr = load_dataset("fashion-mnist", split="train").subset(torch.arange(n))
te = load_dataset("fashion-mnist", split="test").subset(torch.arange(2000))
r = victim_recipe("paper", epochs=ep, width=16); r = replace(r, train=replace(r.train, batch_size=bs))
t = time.perf_counter(); row = train_victim(tr, te, r, seed=0)
print(json.dumps({"mode": mode, "bs": bs, "ep": ep, "n": n, "s": round(time.perf_counter()-t,1), "final": row["final_test_acc"], "best": row["best_test_acc"], "fit": row["train_fit_acc"]}), flush=True)
