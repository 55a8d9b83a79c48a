"""Classifier training, augmentations by name, and the unauthorized trainer's recipes."""
import json

import pytest
import torch
from torch import nn

from imageprivacy.attacks.unlearnable.victim import VICTIM_RECIPES, train_victim, victim_recipe
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import MissingLabelsError
from imageprivacy.nets import build_net
from imageprivacy.training import (TrainHistory, TrainRecipe, accuracy, mix_batch, pgd_examples,
                                   train_classifier)
from imageprivacy.training.augment import AUGMENTATIONS, build_augmentation


def test_train_classifier_learns_a_separable_set(tiny_set, tiny_test_set):
    model = build_net("small-cnn", 1, 4, width=4)
    recipe = TrainRecipe(epochs=3, batch_size=16, lr=0.05, augment=())
    events = []
    history = train_classifier(model, tiny_set.images, tiny_set.labels, recipe, seed=0,
                               test=(tiny_test_set.images, tiny_test_set.labels),
                               progress=lambda e, v: events.append(v))
    assert len(history.train_acc) == len(history.train_loss) == len(history.test_acc) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] >= 0.75 > 0.25             # chance is 1/4
    assert accuracy(model, tiny_test_set.images, tiny_test_set.labels, "cpu") == history.test_acc[-1]
    assert not model.training                              # left in eval mode
    assert [e["epoch"] for e in events] == [1, 2, 3] and events[-1]["test_acc"] == history.test_acc[-1]


def test_train_classifier_is_seeded_and_runs_with_augmentation(tiny_set):
    recipe = TrainRecipe(epochs=1, batch_size=32, lr=0.05, augment=("crop", "flip"), schedule="constant")
    runs = []
    for _ in range(2):
        torch.manual_seed(123)
        model = build_net("linear", 1, 4, image_size=16)
        runs.append((train_classifier(model, tiny_set.images, tiny_set.labels, recipe, seed=5),
                     model.linear.weight.detach().clone()))
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])
    assert runs[0][0].test_acc == []                      # no test set given


def test_accuracy_of_a_constant_model(tiny_set):
    class AlwaysZero(nn.Module):
        def forward(self, x):
            return torch.tensor([1.0, 0.0, 0.0, 0.0]).expand(len(x), 4)
    expected = (tiny_set.labels == 0).float().mean().item()
    assert accuracy(AlwaysZero(), tiny_set.images, tiny_set.labels, "cpu", batch_size=7) == pytest.approx(expected)


def test_train_history_best_and_final():
    history = TrainHistory(train_acc=[0.3, 0.5, 0.7], train_loss=[1.0, 0.8, 0.6], test_acc=[0.2, 0.6, 0.6, 0.5])
    d = history.to_dict()
    assert (d["best_test_acc"], d["best_epoch"], d["final_test_acc"]) == (0.6, 2, 0.5)   # first best epoch
    assert "best_test_acc" not in TrainHistory().to_dict()


def test_augmentations_by_name():
    assert set(AUGMENTATIONS) == {"crop", "flip", "cutout", "autoaugment", "ueraser"}
    x = torch.rand(16, 1, 12, 12)
    assert torch.equal(build_augmentation((), (12, 12))(x), x)
    flipped = build_augmentation(["flip"], (12, 12))(x)
    per_image = [torch.equal(a, b) or torch.equal(a, b.flip(-1)) for a, b in zip(flipped, x)]
    assert all(per_image) and not torch.equal(flipped, x)
    ones = torch.ones(16, 1, 12, 12)
    cropped = build_augmentation(["crop"], (12, 12))(ones)
    assert cropped.shape == ones.shape
    assert set(cropped.unique().tolist()) <= {0.0, 1.0} and (cropped == 0).any()   # zero padding shows
    with pytest.raises(ValueError, match="unknown augmentation.*rotate"):
        build_augmentation(["flip", "rotate"], (12, 12))


def test_victim_recipes_by_name():
    paper = victim_recipe("paper")
    assert (paper.arch, paper.width, paper.train.augment, paper.train.schedule) == \
        ("resnet18", None, ("crop", "flip"), "cosine")
    small = victim_recipe("small-cnn", epochs=2, width=4)
    assert (small.arch, small.width, small.train.epochs, small.train.augment) == ("small-cnn", 4, 2, ())
    linear = victim_recipe("linear", arch="small-cnn", augment=["flip"])
    assert (linear.arch, linear.train.augment, linear.train.lr) == ("small-cnn", ("flip",), 0.01)
    assert VICTIM_RECIPES["small-cnn"].train.epochs == 10 and VICTIM_RECIPES["linear"].arch == "linear"
    assert victim_recipe("paper", epochs=1).to_dict()["epochs"] == 1
    with pytest.raises(ValueError, match="unknown victim recipe 'resnet'"):
        victim_recipe("resnet")


def test_train_victim_reports_best_and_final(tiny_set, tiny_test_set):
    result = train_victim(tiny_set, tiny_test_set, victim_recipe("linear", epochs=3), seed=0)
    accs = result["test_acc"]
    # every epoch scores the whole clean test set (48 images), and the separable task is learned
    assert len(accs) == 3 and all(abs(a * 48 - round(a * 48)) < 1e-9 for a in accs) and max(accs) > 0.5
    assert result["best_test_acc"] == max(accs) and result["final_test_acc"] == accs[-1]
    assert accs[result["best_epoch"] - 1] == max(accs)
    assert result["parameters"] == 16 * 16 * 4 + 4 and result["train_size"] == 64
    assert result["recipe"]["arch"] == "linear" and result["recipe"]["epochs"] == 3
    assert result["best_test_acc"] > 0.5
    with pytest.raises(MissingLabelsError):
        train_victim(ImageSet(tiny_set.images), tiny_test_set, victim_recipe("linear", epochs=1))


@pytest.mark.parametrize("name", ["cutout", "autoaugment", "ueraser"])
@pytest.mark.parametrize("channels", [1, 3])
def test_new_augmentations_keep_shape_and_range(name, channels):
    x = torch.rand(12, channels, 16, 16)
    y = build_augmentation([name], (16, 16))(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert 0.0 <= y.min() and y.max() <= 1.0 and not torch.equal(y, x)


def test_cutout_cuts_one_square_of_half_the_side():
    y = build_augmentation(["cutout"], (32, 32))(torch.ones(64, 1, 32, 32))
    holes = (y == 0).sum((1, 2, 3))
    assert holes.max() == 16 * 16 and holes.min() >= 8 * 8          # whole, or cut off by the border
    assert set(y.unique().tolist()) <= {0.0, 1.0}


def test_autoaugment_on_gray_stays_gray_through_colour_ops():
    from imageprivacy.training.augment import PerImageAutoAugment
    aug = PerImageAutoAugment()
    gray = torch.rand(8, 1, 16, 16).expand(-1, 3, -1, -1)
    for subpolicy in aug.subpolicies:            # "color" is among them and needs 3 channels
        out = subpolicy(gray)
        assert torch.allclose(out, out.mean(1, keepdim=True).expand_as(out), atol=1e-6)


@pytest.mark.parametrize("kind", ["mixup", "cutmix"])
def test_mix_batch_mixes_images_and_labels(kind):
    x, y = torch.rand(8, 3, 16, 16), torch.arange(8)          # one label per image: labels_b is the permutation
    mixed = mix_batch(kind, x, y)
    other = x[mixed.labels_b]
    if kind == "mixup":
        assert torch.allclose(mixed.images, mixed.lam * x + (1 - mixed.lam) * other)
    else:               # a pasted box: every pixel is its own or the other image's, and lam is the kept share
        own = (mixed.images == x).all(1)
        assert torch.equal(mixed.images, torch.where(own[:, None], x, other))
        moved = mixed.labels_b != y                  # an image mixed with itself keeps every pixel
        assert own[moved].float().mean().item() == pytest.approx(mixed.lam)
    targets = mixed.soft_targets(8)
    assert torch.allclose(targets.sum(1), torch.ones(8))
    assert torch.allclose(targets[torch.arange(8), y], torch.where(mixed.labels_b == y, 1.0, mixed.lam))
    dominant = mixed.dominant_labels
    assert torch.equal(dominant, y if mixed.lam >= 0.5 else mixed.labels_b)
    assert torch.isfinite(mixed.loss(torch.randn(8, 8)))
    with pytest.raises(ValueError, match="unknown label mixing 'mixout'"):
        mix_batch("mixout", x, y)


@pytest.mark.parametrize("options", [dict(mix="mixup"), dict(mix="cutmix"),
                                     dict(adversarial_epsilon=8 / 255, adversarial_steps=2),
                                     dict(mix="cutmix", adversarial_epsilon=8 / 255, adversarial_steps=1),
                                     dict(augment=("cutout", "autoaugment", "ueraser"))])
def test_train_classifier_with_mixing_and_adversarial_training(tiny_set, tiny_test_set, options):
    recipe = TrainRecipe(**{"epochs": 1, "batch_size": 32, "lr": 0.05, "augment": (), **options})
    model = build_net("small-cnn", 1, 4, width=4)
    history = train_classifier(model, tiny_set.images, tiny_set.labels, recipe, seed=0,
                               test=(tiny_test_set.images, tiny_test_set.labels))
    assert len(history.train_acc) == len(history.test_acc) == 1
    # the recorded test accuracy is the returned model's, in eval mode, on the clean test images
    assert history.test_acc[-1] == accuracy(model, tiny_test_set.images, tiny_test_set.labels, device="cpu")
    assert torch.isfinite(torch.tensor(history.train_loss)).all()
    json.dumps(recipe.to_dict())                                  # results files stay JSON


def test_pgd_examples_stay_in_the_ball_raise_the_loss_and_restore_train_mode():
    torch.manual_seed(0)
    model = build_net("small-cnn", 3, 4, width=4).train()
    x, y = torch.rand(8, 3, 16, 16), torch.arange(8) % 4
    loss_fn = lambda logits: nn.functional.cross_entropy(logits, y)   # noqa: E731
    eps = 8 / 255
    adv = pgd_examples(model, x, loss_fn, eps, steps=5)
    assert (adv - x).abs().max() <= eps + 1e-6 and 0.0 <= adv.min() and adv.max() <= 1.0
    assert model.training and all(p.grad is None for p in model.parameters())
    model.eval()
    with torch.no_grad():
        assert loss_fn(model(adv)) > loss_fn(model(x))
    with pytest.raises(ValueError, match="epsilon"):
        pgd_examples(model, x, loss_fn, 0.0)


def test_train_recipe_defaults_and_validation():
    recipe = TrainRecipe()
    assert (recipe.mix, recipe.adversarial_epsilon, recipe.adversarial_steps) == (None, 0.0, 10)
    assert (recipe.epochs, recipe.batch_size, recipe.lr, recipe.augment) == (10, 128, 0.1, ("crop", "flip"))
    assert TrainRecipe(augment=["flip"]).augment == ("flip",)
    with pytest.raises(ValueError, match="unknown label mixing"):
        TrainRecipe(mix="mixout")
    with pytest.raises(ValueError, match="adversarial_epsilon"):
        TrainRecipe(adversarial_epsilon=8.0)
    with pytest.raises(ValueError, match="adversarial_steps"):
        TrainRecipe(adversarial_steps=0)


def test_victim_recipe_overrides_mixing_and_adversarial_training():
    recipe = victim_recipe("small-cnn", mix="cutmix", adversarial_epsilon=4 / 255, adversarial_steps=3)
    assert (recipe.train.mix, recipe.train.adversarial_epsilon, recipe.train.adversarial_steps) == \
        ("cutmix", 4 / 255, 3)
    assert recipe.to_dict()["mix"] == "cutmix" and victim_recipe("small-cnn").to_dict()["mix"] is None
    assert VICTIM_RECIPES["small-cnn"].train.mix is None                # the registry is not modified
    with pytest.raises(ValueError, match="unknown label mixing"):
        victim_recipe("linear", mix="mixout")
