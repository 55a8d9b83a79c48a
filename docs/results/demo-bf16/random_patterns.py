"""Demo data (3k): the demo's fitted CGAN, learned vs random sign patterns; paper victim 25 ep, seeds."""
import sys, json, time, torch
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.experiments.unlearnable.demo import DemoConfig, load_demo_split
from imageprivacy.protections import load_protection
from imageprivacy.metrics.image_quality import protection_quality
cfg = DemoConfig()
train, other, test = load_demo_split(cfg)
gan = load_protection(sys.argv[1])
variants = sys.argv[2].split(","); seeds = [int(s) for s in sys.argv[3].split(",")]
learned = gan.generator.patterns.data.clone()
for variant in variants:
    if variant.startswith("random"):
        g = torch.Generator().manual_seed(int(variant[6:] or 0))
        gan.generator.patterns.data = torch.randn(learned.shape, generator=g).sign()
    else:
        gan.generator.patterns.data = learned.clone()
    ps = gan.protect_set(train)
    q = protection_quality(train.images, ps.images)["psnr_mean_db"]
    for seed in seeds:
        t = time.perf_counter()
        row = train_victim(ps, test, victim_recipe("paper", epochs=25, width=16), seed=seed)
        print(json.dumps({"variant": variant, "seed": seed, "psnr": round(q, 2), "final": row["final_test_acc"], "best": row["best_test_acc"],
                          "fit": round(row["train_fit_acc"], 3), "s": round(time.perf_counter() - t)}), flush=True)
