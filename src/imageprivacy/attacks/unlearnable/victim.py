"""The unauthorized trainer: someone who downloads (protected) images and trains a classifier.

It knows nothing of how the data was protected (this floor never imports protections). An
unauthorized trainer picks their own recipe, so protections are judged against several:

- "paper": the EMN / ConfounderGAN protocol, ResNet-18, SGD lr 0.1, momentum 0.9, weight decay
  5e-4, cosine schedule, batch 128, random crop (pad 4) + horizontal flip;
- "small-cnn": a 2-conv CNN, plain SGD lr 0.01 (momentum 0.9), no augmentation, constant lr;
- "linear": a linear model on the pixels, SGD lr 0.01, no augmentation.

Best and final test accuracy are both reported: early stopping at the best epoch is an attack.
On top of a recipe the trainer may add defences (docs/background.md section 2): augmentations by name
(`augment`, incl. "cutout", "autoaugment", "ueraser"), label mixing (`mix`), PGD adversarial
training (`adversarial_epsilon`), and a data-side defence applied to the training set before
training (`train_victim(..., defence=...)`, see countermeasures.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch

from imageprivacy.attacks.unlearnable.countermeasures import apply_defence
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import ConfigurationError
from imageprivacy.nets import build_net, count_parameters
from imageprivacy.training import TrainRecipe, accuracy, train_classifier


@dataclass
class VictimRecipe:
    arch: str = "resnet18"
    width: int | None = None          # None: the architecture's standard width
    train: TrainRecipe = field(default_factory=TrainRecipe)

    def to_dict(self) -> dict:
        return {"arch": self.arch, "width": self.width, **asdict(self.train)}


VICTIM_RECIPES: dict[str, VictimRecipe] = {
    "paper": VictimRecipe("resnet18", None, TrainRecipe(lr=0.1, momentum=0.9, weight_decay=5e-4,
                                                        schedule="cosine", augment=("crop", "flip"))),
    "small-cnn": VictimRecipe("small-cnn", None, TrainRecipe(lr=0.01, momentum=0.9, weight_decay=0.0,
                                                             schedule="constant", augment=())),
    "linear": VictimRecipe("linear", None, TrainRecipe(lr=0.01, momentum=0.9, weight_decay=0.0,
                                                       schedule="constant", augment=())),
}


def victim_recipe(name: str, epochs: int | None = None, width: int | None = None,
                  arch: str | None = None, augment: tuple[str, ...] | None = None,
                  mix: str | None = None, adversarial_epsilon: float | None = None,
                  adversarial_steps: int | None = None) -> VictimRecipe:
    """A named recipe with optional overrides; None keeps the recipe's own value.

    (No named recipe mixes labels or trains adversarially, so None for `mix` means no mixing.)
    """
    if name not in VICTIM_RECIPES:
        raise ConfigurationError(f"unknown victim recipe {name!r}; known: {sorted(VICTIM_RECIPES)}")
    recipe = VICTIM_RECIPES[name]
    overrides = {"epochs": epochs, "augment": None if augment is None else tuple(augment), "mix": mix,
                 "adversarial_epsilon": adversarial_epsilon, "adversarial_steps": adversarial_steps}
    # replace() re-runs TrainRecipe's validation, so a bad override fails here.
    train = replace(recipe.train, **{k: v for k, v in overrides.items() if v is not None})
    return replace(recipe, arch=arch or recipe.arch, width=width if width is not None else recipe.width,
                   train=train)


def train_victim(train: ImageSet, test: ImageSet, recipe: VictimRecipe, device="cpu", seed: int = 0,
                 progress=None, defence: str = "none", defence_options: dict | None = None) -> dict:
    """Train a fresh victim on `train` and report clean test accuracy per epoch, best and final.

    `defence` (countermeasures.DEFENCES) is applied to the training set only; `test` stays clean.
    """
    y_train = train.require_labels("the unauthorized trainer")
    y_test = test.require_labels("evaluating the unauthorized trainer")
    defence_options = dict(defence_options or {})
    train = apply_defence(defence, train, **defence_options)
    torch.manual_seed(seed)
    model = build_net(recipe.arch, train.channels, max(train.num_classes, test.num_classes),
                      width=recipe.width, image_size=train.image_size)
    history = train_classifier(model, train.images, y_train, recipe.train, device=device, seed=seed,
                               test=(test.images, y_test), progress=progress)
    # How well the victim fits its own (protected, unaugmented) training images, in eval mode: a victim
    # that does not fit its data says nothing about protection (the running train_acc is on augmented batches).
    fit_acc = accuracy(model, train.images, y_train, device)
    return {"recipe": recipe.to_dict(), "defence": {"name": defence, "options": defence_options},
            "parameters": count_parameters(model), "seed": seed, "train_size": len(train),
            "train_fit_acc": fit_acc, **history.to_dict()}
