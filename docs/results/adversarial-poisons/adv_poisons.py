"""New images without labels: do adversarial poisons (Fowl et al. 2021) beat the class-pattern guess?

The question: ConfounderGAN's label-free path gives each new image its guessed class's pattern, and the
~11 % it guesses wrong teach the victim the real task (docs/results.md, "New images"). Adversarial
examples of a classifier trained on other images carry features of another class; a victim trained on
them with the true labels learns those features for the wrong label (Ilyas et al. 2019). The attack
needs no label: it uses the crafting model's own prediction. Here the upper bound of that idea (PGD,
not yet a one-pass generator) is measured on the same split as ood-selection/soft_selection.py.

Per seed: a ResNet-18 w16 (paper recipe) trained on 10k images A; on 10k disjoint images B, L-inf PGD at
16/255 with (1) untargeted, away from the prediction, (2) targeted at prediction + 1 mod 10, (3) the
label-aware reference, targeted at true label + 1. A paper-recipe victim (10 epochs) on each protected B,
tested on 2k clean test images. Writes adv_poisons.jsonl (one line per victim).
Usage: python docs/results/adversarial-poisons/adv_poisons.py SEEDS VARIANTS [STEPS] [VICTIM]
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.nets import build_net
from imageprivacy.training import accuracy, train_classifier
from imageprivacy.training.accelerator import mixed_precision
from imageprivacy.training.adversarial import pgd_examples

SIZE, EPS, OUT = 10_000, 16 / 255, "docs/results/adversarial-poisons/adv_poisons.jsonl"
seeds = [int(s) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else [0]
variants = sys.argv[2].split(",") if len(sys.argv) > 2 else ["untargeted", "next-of-guess", "next-of-label"]
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
victim_name = sys.argv[4] if len(sys.argv) > 4 else "paper"
full = load_dataset("fashion-mnist", split="train")
test = load_dataset("fashion-mnist", split="test").random_subset(2_000, seed=10_000)


def craft(model, images, labels, variant):
    out = []
    for i in range(0, len(images), 500):
        x = images[i:i + 500].float() / 255
        with torch.no_grad(), mixed_precision("cpu"):
            guess = model(x).argmax(1)
        y = labels[i:i + 500]
        if variant == "untargeted":
            loss = lambda logits, t=guess: F.cross_entropy(logits.float(), t)
        else:
            t = (guess if variant == "next-of-guess" else y) + 1
            loss = lambda logits, t=t % 10: -F.cross_entropy(logits.float(), t)
        with mixed_precision("cpu"):
            adv = pgd_examples(model, x, loss, EPS, steps=steps, step_size=EPS / 4)
        out.append((adv * 255).round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)


for seed in seeds:
    order = full.shuffled_indices(seed)
    a, b = full.subset(order[:SIZE]), full.subset(order[SIZE:2 * SIZE])
    start = time.perf_counter()
    torch.manual_seed(seed)
    crafter = build_net("resnet18", 1, 10, width=16, image_size=a.image_size)
    train_classifier(crafter, a.images, a.labels, victim_recipe("paper", epochs=10).train, seed=seed)
    crafter.eval()
    crafter_acc = accuracy(crafter, b.images, b.labels, "cpu")
    crafter_s = time.perf_counter() - start
    print("crafter", crafter_acc, crafter_s, flush=True)
    for variant in variants:
        start = time.perf_counter()
        data = b.with_images(craft(crafter, b.images, b.labels, variant))
        craft_s = time.perf_counter() - start
        with torch.no_grad():
            adv_acc = accuracy(crafter, data.images, b.labels, "cpu")
        run = train_victim(data, test, victim_recipe(victim_name, epochs=10), seed=seed)
        row = {"seed": seed, "variant": variant, "steps": steps, "victim": victim_name, "crafter_acc_on_b": crafter_acc,
               "crafter_acc_on_poisons": adv_acc, "crafter_seconds": crafter_s, "craft_seconds": craft_s,
               "quality": protection_quality(b.images, data.images), "final": run["final_test_acc"],
               "best": run["best_test_acc"], "test_acc": run["test_acc"], "train_fit_acc": run["train_fit_acc"]}
        print(json.dumps({k: row[k] for k in ("seed", "variant", "crafter_acc_on_poisons", "craft_seconds", "final", "best")}),
              row["quality"]["psnr_mean_db"], flush=True)
        with open(OUT, "a") as f:
            f.write(json.dumps(row) + "\n")
