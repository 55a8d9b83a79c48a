"""Bench: which class-wise noise shape makes the best shortcut (patterns assigned by the true label).

    python docs/results/exploration/noise_shapes.py clean,sign4,textures,sign7,lsp4 0,1 10000 > noise_shapes.jsonl
"""
import json, sys, time, math
import torch

from imageprivacy import load_dataset
from imageprivacy.attacks.unlearnable.victim import victim_recipe, train_victim
from imageprivacy.protections.pixel_budget import apply_noise_uint8
torch.set_num_threads(2)
EPS = 16 / 255

def sign_blocks(k, h, w, block, seed):
    g = torch.Generator().manual_seed(seed)
    c = torch.randint(0, 2, (k, 1, -(-h // block), -(-w // block)), generator=g).float() * 2 - 1
    return c.repeat_interleave(block, 2).repeat_interleave(block, 3)[:, :, :h, :w]

def textures(k, h, w, seed):
    """Structured textures: stripes / checkers at periods 2,4,8 (+ one more), invariant to flips and shifts."""
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    out = []
    for kind in ("h", "v", "c"):
        for p in (2, 4, 8):
            half = p // 2
            if kind == "h": s = (yy // half) % 2
            elif kind == "v": s = (xx // half) % 2
            else: s = ((yy // half) + (xx // half)) % 2
            out.append(s.float() * 2 - 1)
    out.append(((yy // 8 + xx // 8) % 2).float() * 2 - 1 if False else (((yy + xx) // 2) % 2).float() * 2 - 1)
    return torch.stack(out[:k])[:, None]

def gauss_cluster(k, n, h, w, labels, block, seed, spread=0.5):
    """LSP-like: one sign mean per class plus fresh per-image noise, in blocks."""
    base = sign_blocks(k, h, w, block, seed)
    g = torch.Generator().manual_seed(seed + 1)
    fresh = torch.randn((n, 1, -(-h // block), -(-w // block)), generator=g)
    fresh = fresh.repeat_interleave(block, 2).repeat_interleave(block, 3)[:, :, :h, :w]
    return (base[labels] + spread * fresh).clamp(-1, 1)

def make(shape, images, labels, seed):
    n, c, h, w = images.shape
    if shape.startswith("sign"):
        pat = sign_blocks(10, h, w, int(shape[4:]), seed)[labels]
    elif shape == "textures":
        pat = textures(10, h, w, seed)[labels]
    elif shape.startswith("lsp"):
        pat = gauss_cluster(10, n, h, w, labels, int(shape[3:]), seed)
    elif shape == "clean":
        return images
    return apply_noise_uint8(images, EPS * pat, EPS)

if __name__ == "__main__":
    shapes = sys.argv[1].split(",")
    seeds = [int(s) for s in sys.argv[2].split(",")]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    recipes = sys.argv[4].split(",") if len(sys.argv) > 4 else ["paper", "small-cnn"]
    epochs = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    train = load_dataset("fashion-mnist", split="train").subset(torch.arange(n))
    test = load_dataset("fashion-mnist", split="test").subset(torch.arange(2000))
    out = []
    for shape in shapes:
        for seed in seeds:
            imgs = make(shape, train.images, train.labels, seed)
            for rname in recipes:
                t0 = time.time()
                r = victim_recipe(rname, epochs=epochs, width=16 if rname == "paper" else None)
                res = train_victim(train.with_images(imgs), test, r, seed=seed)
                row = {"shape": shape, "seed": seed, "recipe": rname, "final": res["final_test_acc"],
                       "best": res["best_test_acc"], "train_acc": res["train_acc"][-1],
                       "curve": res["test_acc"], "s": round(time.time() - t0)}
                print(json.dumps(row), flush=True)
                out.append(row)
