"""60k, label-aware class-wise sign patterns of a given shape; paper victim 10 epochs (or RECIPE EPOCHS).

python shapes60k.py SHAPE SEED [RECIPE EPOCHS]; SHAPE: sign4 (4-px blocks, the bar), mirror4 (4-px blocks,
each pattern mirror-symmetric left-right, so the victim's horizontal flip shows the same texture), sign7.
"""
import sys, json, time, torch
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.metrics.image_quality import protection_quality

shape, seed = sys.argv[1], int(sys.argv[2])
recipe, epochs = (sys.argv[3], int(sys.argv[4])) if len(sys.argv) > 4 else ("paper", 10)
train = load_dataset("fashion-mnist", split="train"); test = load_dataset("fashion-mnist", split="test")
block = 7 if shape == "sign7" else 4
cells = -(-28 // block)
gen = torch.Generator().manual_seed(seed)
coarse = torch.randint(0, 2, (10, 1, cells, cells), generator=gen).float() * 2 - 1
if shape == "mirror4":
    coarse = torch.where(torch.arange(cells) < cells - 1 - torch.arange(cells), coarse, coarse.flip(3))
    assert torch.equal(coarse, coarse.flip(3))
P = coarse.repeat_interleave(block, 2).repeat_interleave(block, 3)[:, :, :28, :28]
x = train.images.float() / 255
protected = ((x + 16 / 255 * P[train.labels]).clamp(0, 1) * 255).round().to(torch.uint8)
ps = train.with_images(protected, name=f"classwise-{shape}")
xt = test.images.float() / 255
match = (torch.einsum("nchw,kchw->nk", xt - x.mean(0), P).argmax(1) == test.labels).float().mean().item()
t0 = time.perf_counter()
row = train_victim(ps, test, victim_recipe(recipe, epochs=epochs, width=16), seed=seed)
print(json.dumps({"shape": shape, "seed": seed, "recipe": recipe, "epochs": epochs, "template_match": match,
                  "psnr": protection_quality(train.images, ps.images)["psnr_mean_db"],
                  "final": row["final_test_acc"], "best": row["best_test_acc"], "fits": row["train_fit_acc"],
                  "curve": row["test_acc"], "s": round(time.perf_counter() - t0)}), flush=True)
