"""How much of each method's noise is left after one tone operation, on the suite's cached 10k sets.

    python docs/results/autoaugment-ablation/noise_survival.py > docs/results/autoaugment-ablation/noise_survival.txt

For the first 2,000 images: op(protected) - op(clean) with the op at a fixed factor (kornia's functions,
the ones AutoAugment's contrast / brightness / sharpness wrap), its mean size in 8-bit levels (overall and on
the black background, clean pixel 0), and the share of that difference's energy that its class means carry
(how class-wise the difference still is; 1 = one pattern per class). Neither needs training.
"""
import json

import torch
import kornia.enhance as E

from imageprivacy.experiments.unlearnable.paper_suite import SuiteConfig, _load
from imageprivacy.experiments.unlearnable.protected_sets import ProtectedSets

torch.set_num_threads(1)
cfg = SuiteConfig(**json.loads(open("docs/results/suite-10k-anti-template/results.json").read())["config"])
train, _, attacker = _load(cfg)
sets = ProtectedSets(train, 16 / 255, cfg.options, "docs/results/suite-10k-anti-template", "cpu", 0, None, attacker)
N = 2_000
clean, labels = train.images[:N].float() / 255, train.labels[:N]
OPS = {"identity": lambda z: z}
for a in (0.5, 1.5, 1.8):
    OPS[f"contrast {a}"] = lambda z, a=a: E.adjust_contrast_with_mean_subtraction(z, a)
    OPS[f"brightness x{a}"] = lambda z, a=a: (z * a).clamp(0, 1)
    OPS[f"sharpness {a}"] = lambda z, a=a: E.sharpness(z, a)
background = clean < 0.5 / 255
print(f"{N} images; background (clean pixel 0): {background.float().mean():.1%} of pixels")
for method in ("cwn", "emn", "confoundergan"):
    protected = sets.get(method, 1.0).images[:N].float() / 255
    for name, op in OPS.items():
        d = op(protected) - op(clean)
        means = torch.stack([d[labels == k].mean(0) for k in range(10)])
        share = ((means[labels] * d).sum() / (d * d).sum()).item()
        print(f"{method:13s} {name:15s} |d| {d.abs().mean() * 255:5.2f} levels, background {d[background].abs().mean() * 255:5.2f}, "
              f"class-mean share {share:.3f}")
