"""Bench: which class-wise pattern scale stops the small-CNN victim (patterns given by the true label).

The small CNN (SGD 0.01, no augmentation) still learns ~0.78 through 4-px class-wise sign noise where the
paper victim learns ~0.27 (docs/results/exploration/noise_shapes.jsonl). Does a coarser pattern, one the
CNN's two poolings keep whole, make the better shortcut for it? Shapes: sign blocks of B pixels (sign2 ..
sign14; for 14 the ten classes get ten distinct codes of the 16 a 2x2 grid allows) and "level": every
pixel of a class's image shifted by one of ten levels in [-eps, eps] (a brightness code); "A+B": the
sum of two such codes at half amplitude each.

    python docs/results/small-cnn-shapes/shapes.py sign4,sign7,sign14,level 0,1 10000 small-cnn,paper 5
"""
import json
import sys
import time

import torch

from imageprivacy import load_dataset
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.protections.pixel_budget import apply_noise_uint8

EPS = 16 / 255


def patterns(shape: str, h: int, w: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if shape == "level":
        return torch.linspace(-1, 1, 10)[torch.randperm(10, generator=g)].view(10, 1, 1, 1).expand(10, 1, h, w)
    if "+" in shape:                    # e.g. sign4+sign14: the two codes at half amplitude each
        first, second = shape.split("+")
        return 0.5 * patterns(first, h, w, seed) + 0.5 * patterns(second, h, w, seed + 1000)
    block = int(shape[4:])
    cells = (-(-h // block), -(-w // block))
    if cells[0] * cells[1] <= 4:        # few codes: take ten distinct ones
        n = cells[0] * cells[1]
        codes = torch.randperm(2 ** n, generator=g)[:10]
        bits = ((codes[:, None] >> torch.arange(n)) & 1).float() * 2 - 1
        c = bits.view(10, 1, *cells)
    else:
        c = torch.randint(0, 2, (10, 1, *cells), generator=g).float() * 2 - 1
    return c.repeat_interleave(block, 2).repeat_interleave(block, 3)[:, :, :h, :w]


if __name__ == "__main__":
    shapes = sys.argv[1].split(",")
    seeds = [int(s) for s in sys.argv[2].split(",")]
    n = int(sys.argv[3])
    recipes = sys.argv[4].split(",")
    epochs = int(sys.argv[5])
    train = load_dataset("fashion-mnist", split="train").subset(torch.arange(n))
    test = load_dataset("fashion-mnist", split="test").subset(torch.arange(2000))
    for shape in shapes:
        for seed in seeds:
            h, w = train.image_size
            images = train.images if shape == "clean" else apply_noise_uint8(
                train.images, EPS * patterns(shape, h, w, seed)[train.labels], EPS)
            for name in recipes:
                start = time.time()
                recipe = victim_recipe(name, epochs=epochs, width=16 if name == "paper" else None)
                res = train_victim(train.with_images(images), test, recipe, seed=seed)
                print(json.dumps({"train_size": n, "epochs": epochs, "shape": shape, "seed": seed, "recipe": name,
                                  "final": res["final_test_acc"], "best": res["best_test_acc"],
                                  "train_fit": res["train_fit_acc"], "curve": res["test_acc"],
                                  "s": round(time.time() - start)}), flush=True)
