"""60k, label-aware: a saved generator's patterns (or a fresh fit with OPTS) given by the true label; paper victim 10 ep."""
import sys, json, time, torch
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.protections import ConfounderGAN, load_protection, save_protection
from imageprivacy.metrics.image_quality import protection_quality
src, opts = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
train = load_dataset("fashion-mnist", split="train"); test = load_dataset("fashion-mnist", split="test")
t0 = time.perf_counter()
if src.endswith(".safetensors"):
    m = load_protection(src)
else:
    m = ConfounderGAN(epsilon=16/255, seed=seed, selector_epochs=0, **opts).fit(train,
        progress=lambda e, v: print(e, json.dumps(v, default=str), file=sys.stderr, flush=True))
    save_protection(m, f"{src}.safetensors")
fit_s = time.perf_counter() - t0
P = m.generator.tiled_patterns(28, 28).detach()
xt = test.images.float() / 255; mu = train.images.float().mean(0) / 255
match = (torch.einsum("nchw,kchw->nk", xt - mu, P).argmax(1) == test.labels).float().mean().item()
ps = train.with_images(m.protect(train.images, train.labels), name="label-aware")
row = train_victim(ps, test, victim_recipe("paper", epochs=10, width=16), seed=seed)
print(json.dumps({"src": src, "opts": opts, "seed": seed, "fit_s": round(fit_s), "template_match": match,
                  "psnr": protection_quality(train.images, ps.images)["psnr_mean_db"], "final": row["final_test_acc"],
                  "best": row["best_test_acc"], "fits": row["train_fit_acc"], "curve": row["test_acc"]}), flush=True)
