"""A/B: EMN's descent in float32 (before) vs under bf16 autocast (now), the demo's EMN and victim, one seed per call."""
import json, sys, time, torch, torch.nn.functional as F
torch.set_num_threads(1)
from imageprivacy.protections.unlearnable import error_minimizing_noise as emn_mod
from imageprivacy.experiments.unlearnable.demo import DemoConfig, load_demo_split, DEMO_OPTIONS
from imageprivacy.experiments.unlearnable.protection_factory import fit_and_protect
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.metrics.image_quality import protection_quality
arm, seed = sys.argv[1], int(sys.argv[2])
if arm == "fp32":
    def _descend(self, x, y, delta, steps):
        model, eps = self.surrogate, self.epsilon
        delta = ((x + delta).clamp(0, 1) - x).detach()
        for _ in range(steps):
            image = (x + delta).requires_grad_(True)
            grad, = torch.autograd.grad(F.cross_entropy(model(image), y), image)
            delta = (image.detach() - self.step_size * grad.sign() - x).clamp(-eps, eps)
            delta = (x + delta).clamp(0, 1) - x
        return delta
    emn_mod.ErrorMinimizingNoise._descend = _descend
cfg = DemoConfig(seed=seed)
train, other, test = load_demo_split(cfg)
torch.manual_seed(seed)
t = time.perf_counter()
m, prot, fit_s = fit_and_protect("emn", train, cfg.epsilon, "cpu", seed, None, **DEMO_OPTIONS["emn"])
run = train_victim(prot, test, victim_recipe("paper", epochs=25, width=16), device="cpu", seed=seed)
q = protection_quality(train.images, prot.images)
row = {"arm": arm, "seed": seed, "fit_seconds": fit_s, "fit_record": m.fit_record, "psnr": q["psnr_mean_db"],
       "final": run["final_test_acc"], "best": run["best_test_acc"], "fits": run["train_fit_acc"],
       "test_acc": run["test_acc"], "seconds": time.perf_counter() - t}
print(json.dumps(row))
with open("/tmp/emnab/emn_ab.jsonl", "a") as f:
    f.write(json.dumps(row) + "\n")
