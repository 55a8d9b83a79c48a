"""Why the paper victim keeps ~0.2 (in-distribution) and ~0.54 (new images): what it predicts on clean test images.

Re-trains the paper-recipe victim of a full-scale target row (full_scale_targets.py) on the images that row's
saved generator protects (label-free path), and after every epoch records the confusion matrix on the clean
10k test images. For the row it also records, per class, the selector's agreement with the label on the
protected images (the pattern each image got, mapped to its class by the per-class majority, as
ConfounderGAN.label_consistency does), and at the end the victim's accuracy on its training images whose
pattern was the right one against those whose pattern was another class's.

    python docs/results/victim-confusion/confusion.py in  docs/results/targets-coarse-codes/confoundergan.safetensors 1
    python docs/results/victim-confusion/confusion.py ood docs/results/targets-coarse-codes-ood/ood.safetensors 1

Appends one JSON line to confusion.jsonl beside this file.
"""
import json
import sys
import time
from pathlib import Path

import torch

from imageprivacy import load_dataset
from imageprivacy.attacks.unlearnable.victim import victim_recipe
from imageprivacy.nets import build_net
from imageprivacy.protections import load_protection
from imageprivacy.training import accuracy, train_classifier
from imageprivacy.training.accelerator import mixed_precision


@torch.no_grad()
def predictions(model, images, batch=512):
    model.eval()
    out = []
    for s in range(0, len(images), batch):
        with mixed_precision("cpu"):
            out.append(model(images[s:s + batch].float() / 255.0).argmax(1))
    return torch.cat(out)


def confusion(labels, preds, k=10):
    m = torch.zeros(k, k, dtype=torch.long)
    m.index_put_((labels, preds), torch.ones_like(labels), accumulate=True)
    return m.tolist()


def main():
    which, checkpoint, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    full = load_dataset("fashion-mnist", split="train")
    test = load_dataset("fashion-mnist", split="test")
    half = len(full) // 2
    train = full if which == "in" else full.subset(torch.arange(half, len(full)))   # as full_scale_targets.py
    gan = load_protection(checkpoint)
    picks = torch.cat([gan.generator.mixing_logits(train.images[i].float() / 255.0).argmax(1)
                       for i in torch.arange(len(train)).split(512)])
    y = train.labels
    majority = {k: int(picks[y == k].mode().values) for k in range(10)}
    pattern_class = {p: k for k, p in majority.items()}            # the class whose majority pattern p is
    given = torch.tensor([pattern_class.get(int(p), -1) for p in picks])
    right = given == y
    protected = gan.protect_set(train)
    recipe = victim_recipe("paper", epochs=10, width=16)
    torch.manual_seed(seed)
    model = build_net("resnet18", 1, 10, width=16, image_size=train.image_size)
    epochs = []

    def after_epoch(epoch, net):
        p = predictions(net, test.images)
        epochs.append({"epoch": epoch, "test_acc": float((p == test.labels).float().mean()),
                       "confusion": confusion(test.labels, p)})
        print(epoch, epochs[-1]["test_acc"], flush=True)
        return False

    start = time.perf_counter()
    train_classifier(model, protected.images, y, recipe.train, seed=seed, test=None, after_epoch=after_epoch)
    fit = predictions(model, protected.images) == y
    row = {"which": which, "checkpoint": checkpoint, "seed": seed, "seconds": time.perf_counter() - start,
           "selector_agreement_per_class": [float(right[y == k].float().mean()) for k in range(10)],
           "selector_agreement": float(right.float().mean()),
           "given_class_counts": {str(k): int(((given == k) & ~right).sum()) for k in range(-1, 10)},
           "fit_where_pattern_right": float(fit[right].float().mean()),
           "fit_where_pattern_wrong": float(fit[~right].float().mean()) if (~right).any() else None,
           "fit_acc": accuracy(model, protected.images, y, "cpu"), "epochs": epochs}
    with open(Path(__file__).with_name("confusion.jsonl"), "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
