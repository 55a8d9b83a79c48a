"""60k: fit train-generator's default ConfounderGAN (seed 0) in float32, protect, then a bf16 paper victim (10 ep)."""
import sys, json, time, torch
from pathlib import Path
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.protections import ConfounderGAN, save_protection
from imageprivacy.training.accelerator import set_precision
out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
train = load_dataset("fashion-mnist", split="train"); test = load_dataset("fashion-mnist", split="test")
set_precision("float32")
t = time.perf_counter()
gan = ConfounderGAN(epsilon=16 / 255, seed=0).fit(train, progress=lambda e, v: print(e, json.dumps(v, default=str), flush=True))
res = {"fit_s": time.perf_counter() - t, "agreement": gan.fit_record["selector"]["agreement"], "generator_precision": "float32"}
save_protection(gan, out / "gen.safetensors")
ps = gan.protect_set(train)
res["psnr"] = protection_quality(train.images, ps.images)["psnr_mean_db"]
set_precision("auto")
row = train_victim(ps, test, victim_recipe("paper", epochs=10, width=16), seed=0)
res.update({"victim_precision": "auto (bf16 here)", "final": row["final_test_acc"], "best": row["best_test_acc"],
            "fit": row["train_fit_acc"], "curve": row["test_acc"]})
(out / "res.json").write_text(json.dumps(res, indent=1)); print("RESULT", json.dumps(res), flush=True)
