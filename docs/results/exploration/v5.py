"""ConfounderGAN variants at 10k/5 epochs, paper victim w16."""
import json, sys, time, torch
from imageprivacy.data import load_dataset
from imageprivacy.attacks.unlearnable.victim import victim_recipe, train_victim
from imageprivacy.metrics import protection_quality
from imageprivacy.protections import ConfounderGAN
torch.set_num_threads(2)
opts = json.loads(sys.argv[1])
tag = sys.argv[2]
train = load_dataset("fashion-mnist", split="train").random_subset(10000, seed=0)
test = load_dataset("fashion-mnist", split="test")
t0 = time.time()
cg = ConfounderGAN(epsilon=16/255, **opts).fit(train, progress=lambda e, v: print(e, {k: (round(x, 3) if isinstance(x, float) else x) for k, x in v.items()}, flush=True))
fit_s = time.time() - t0
prot = cg.protect(train.images)
q = protection_quality(train.images, prot)
cons = cg.label_consistency(train)
print(json.dumps({"tag": tag, "fit_s": round(fit_s), "psnr": round(q["psnr_mean_db"], 2), "consistency": cons}), flush=True)
r = train_victim(train.with_images(prot), test, victim_recipe("paper", epochs=5, width=16))
print(json.dumps({"tag": tag, "opts": opts, "psnr": round(q["psnr_mean_db"], 2), "consistency": cons,
                  "test": [round(a, 3) for a in r["test_acc"]], "train_final": round(r["train_acc"][-1], 3)}), flush=True)
