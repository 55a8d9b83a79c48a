"""Which class-wise noise structure protects at PSNR >= 26 (RMS <= 0.8 eps)? 10k train, paper victim w16 5 ep."""
import json, sys, time, torch
from imageprivacy.data import load_dataset
from imageprivacy.attacks.unlearnable.victim import victim_recipe, train_victim
from imageprivacy.protections.base import apply_noise_uint8
from imageprivacy.metrics import protection_quality
torch.set_num_threads(2)
eps = 16 / 255
train = load_dataset("fashion-mnist", split="train").random_subset(10000, seed=0)
test = load_dataset("fashion-mnist", split="test")
g = torch.Generator().manual_seed(0)
def sign(shape): return torch.randint(0, 2, shape, generator=g).float() * 2 - 1
def tiled(cells, block, H=28):
    p = sign((10, 1, cells, cells)).repeat_interleave(block, 2).repeat_interleave(block, 3)
    r = -(-H // p.shape[2]); return p.repeat(1, 1, r, r)[:, :, :H, :H]
variants = {
  "b4_full_a1.0": (tiled(7, 4), 1.0),
  "b4_full_a0.8": (tiled(7, 4), 0.8),
  "b7_a0.8": (tiled(4, 7), 0.8),
  "b2_p8_a0.8": (tiled(4, 2), 0.8),
  "b4_p16_a0.8": (tiled(4, 4), 0.8),
  "b1_p4_a0.8": (tiled(4, 1), 0.8),
}
names = sys.argv[1:] or list(variants)
for name in names:
    pat, amp = variants[name]
    noise = amp * eps * pat[train.labels]
    prot = apply_noise_uint8(train.images, noise, eps)
    q = protection_quality(train.images, prot)
    t0 = time.time()
    r = train_victim(train.with_images(prot), test, victim_recipe("paper", epochs=5, width=16))
    print(json.dumps({"variant": name, "psnr": round(q["psnr_mean_db"], 2), "test": [round(a, 3) for a in r["test_acc"]],
                      "train_final": round(r["train_acc"][-1], 3), "sec": round(time.time() - t0)}), flush=True)
