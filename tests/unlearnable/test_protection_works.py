"""Behaviour, not plumbing: a victim trained on protected images learns clearly less than one trained on clean.

Tiny data where the real feature (a faint bright quadrant under strong per-image noise) takes a
victim a few epochs to learn, while a class-consistent pattern at the budget is learnt at once: the
situation of Fashion-MNIST under the paper's victim (docs/results.md), in seconds.
"""
import pytest
import torch

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data.imageset import ImageSet
from imageprivacy.protections import ClassWiseNoise, ConfounderGAN

EPS = 32 / 255


def faint_set(n: int, seed: int, size: int = 16, classes: int = 4) -> ImageSet:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=gen)
    images = torch.randint(0, 160, (n, 1, size, size), generator=gen)
    half = size // 2
    for i, c in enumerate(labels.tolist()):
        r, q = divmod(c, 2)
        images[i, :, r * half:(r + 1) * half, q * half:(q + 1) * half] += 30
    return ImageSet(images.clamp(0, 255).to(torch.uint8), labels, [f"c{k}" for k in range(classes)], "faint")


@pytest.fixture(scope="module")
def faint():
    return faint_set(512, seed=0), faint_set(256, seed=1)


def victim_accuracy(train, test) -> float:
    recipe = victim_recipe("small-cnn", epochs=5)
    return train_victim(train, test, recipe, seed=0)["final_test_acc"]


@pytest.fixture(scope="module")
def clean_accuracy(faint):
    return victim_accuracy(*faint)


def test_classwise_noise_protects_tiny_data(faint, clean_accuracy):
    train, test = faint
    method = ClassWiseNoise(epsilon=EPS, block=2).fit(train)
    assert clean_accuracy >= 0.9
    assert victim_accuracy(method.protect_set(train), test) <= clean_accuracy - 0.3


def test_confoundergan_protects_the_images_it_was_fitted_on(faint, clean_accuracy):
    train, test = faint
    method = ConfounderGAN(epsilon=EPS, epochs=1, f_epochs=1, f_arch="small-cnn", f_width=4, width=8,
                           cell_size=2, selector_epochs=30).fit(train)
    assert method.fit_record["selector"]["agreement"] >= 0.99     # fitted on what it protects
    protected = method.protect_set(train)                          # the label-free path: images only
    assert clean_accuracy >= 0.9
    assert victim_accuracy(protected, test) <= clean_accuracy - 0.3
