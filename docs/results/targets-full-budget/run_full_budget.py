"""60k: one generator (defaults), protected tanh vs sign patterns; paper victim 10 epochs on each."""
import json, time, sys
from dataclasses import replace
from pathlib import Path
import torch
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.protections import ConfounderGAN, load_protection, save_protection

out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 0
train = load_dataset("fashion-mnist", split="train")
if n: train = train.subset(torch.arange(n))
test = load_dataset("fashion-mnist", split="test")
ck = out / "gen.safetensors"
res = {}
if ck.exists():
    gan = load_protection(ck)
else:
    t = time.perf_counter()
    gan = ConfounderGAN(epsilon=16/255, seed=0); gan.fit(train, progress=lambda e, v: print(e, v, flush=True))
    save_protection(gan, ck); res["fit_s"] = time.perf_counter() - t
    res["agreement"] = gan.fit_record["selector"]["agreement"]
for variant in sys.argv[3].split(","):
    gan.generator.cfg.full_budget = variant in ("sign", "random")
    if variant == "random":     # the fitted selector, patterns replaced by seeded random signs
        g = torch.Generator().manual_seed(0)
        gan.generator.patterns.data = torch.randn(gan.generator.patterns.shape, generator=g).sign()
    ps = gan.protect_set(train)
    q = protection_quality(train.images, ps.images)
    for recipe_name in sys.argv[4].split(","):
        recipe = victim_recipe(recipe_name, epochs=10, width=16 if recipe_name == "paper" else None)
        t = time.perf_counter()
        row = train_victim(ps, test, recipe, device="cpu", seed=0)
        res[f"{variant}/{recipe_name}"] = {"psnr": q["psnr_mean_db"], "final": row["final_test_acc"],
               "best": row["best_test_acc"], "fit": row["train_fit_acc"], "curve": row["test_acc"], "s": time.perf_counter() - t}
        print("RESULT", variant, recipe_name, json.dumps(res[f"{variant}/{recipe_name}"]), flush=True)
        (out / "res.json").write_text(json.dumps(res, indent=1))
