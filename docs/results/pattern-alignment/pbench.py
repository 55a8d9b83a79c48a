"""Judge a pattern-learning config fast: fit on 10k (no selector fit), protect label-aware, paper victim 5 ep."""
import sys, json, time, torch
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.protections import ConfounderGAN, ClassWiseNoise
from imageprivacy.metrics.image_quality import protection_quality
name, opts, seeds = sys.argv[1], json.loads(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
train = load_dataset("fashion-mnist", split="train"); test = load_dataset("fashion-mnist", split="test")
xt = test.images.float() / 255; yt = test.labels
for seed in seeds:
    sub = train.subset(torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n])
    t0 = time.perf_counter()
    if name == "classwise":
        m = ClassWiseNoise(epsilon=16/255, block=4, seed=seed).fit(sub); ps = m.protect_set(sub); P = m.patterns.sign()
    else:
        m = ConfounderGAN(epsilon=16/255, seed=seed, selector_epochs=0, **opts).fit(sub)
        ps = sub.with_images(m.protect(sub.images, sub.labels), name="cgan-label-aware")
        P = m.generator.tiled_patterns(28, 28).detach()
    fit_s = time.perf_counter() - t0
    mu = sub.images.float().mean(0) / 255
    match = (torch.einsum("nchw,kchw->nk", xt - mu, P).argmax(1) == yt).float().mean().item()
    row = train_victim(ps, test, victim_recipe("paper", epochs=5, width=16), seed=seed)
    out = {"name": name, "opts": opts, "seed": seed, "n": n, "fit_s": round(fit_s, 1), "template_match": match,
           "psnr": protection_quality(sub.images, ps.images)["psnr_mean_db"],
           "final": row["final_test_acc"], "best": row["best_test_acc"], "curve": row["test_acc"],
           "gen": getattr(m, "fit_record", {}).get("generator") if name != "classwise" else None}
    print(json.dumps(out), flush=True)
