"""Private-attribute inference from features: an attacker trains a classifier on what it eavesdrops.

The attacker queries the service with images whose private labels they know, records the features,
and trains a classifier on (features, private label) (DeepObfuscator section 3.3). The features are
computed once (float16, half the memory; the classifier sees them as float32) and the classifier is
trained by the package's one classifier loop (training.train_classifier, inputs="features") with
the recipe below: SGD as every victim and DPF attacker here (our choice; the paper trains its
simulated AC with Adam inside Algorithm 1 and says nothing of a retrained one).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from imageprivacy.training.classifier_training import TrainRecipe, accuracy, train_classifier
from imageprivacy.training.early_stopping import EarlyStopping
from imageprivacy.training.feature_training import map_batches

# SGD, no augmentation. DeepObfuscator's pretraining of O + C uses it too, so the model "without privacy"
# and the attackers are trained alike.
CLASSIFIER_RECIPE = dict(lr=0.01, momentum=0.9, weight_decay=5e-4, schedule="cosine", augment=())


def train_attribute_classifier(model: nn.Module, featurize: Callable[[torch.Tensor], torch.Tensor],
                               images: torch.Tensor, labels: torch.Tensor, epochs: int, batch_size: int = 64,
                               device="cpu", seed: int = 0, progress=None,
                               validation: tuple[torch.Tensor, torch.Tensor] | None = None,
                               patience: int | None = None) -> dict:
    """Train `model` in place on featurize(uint8 `images`) -> `labels`; returns the training history.

    With `validation` (images, labels), held out of the attacker's own data, the accuracy on their features is
    recorded after every epoch ("val_acc"); with `patience` too, `epochs` is a cap: training stops once it has
    not risen for `patience` epochs and ends with the best epoch's weights ("early_stopping"). Accuracy, not
    loss, is watched: an attacker wants right answers, and a classifier's loss can rise while it still gains.
    """
    torch.manual_seed(seed)          # featurize may draw noise (the noise baseline): reproducible
    features = map_batches(featurize, images, device, out_dtype=torch.float16)
    recipe = TrainRecipe(epochs=epochs, batch_size=batch_size, **CLASSIFIER_RECIPE)
    if validation is None:
        return train_classifier(model, features, labels, recipe, device, seed, progress=progress,
                                inputs="features").to_dict()
    val_features = map_batches(featurize, validation[0], device, out_dtype=torch.float16)
    stopper, val_acc = EarlyStopping(patience or epochs + 1, higher_is_better=True), []

    def watch(epoch: int, net: nn.Module) -> bool:
        val_acc.append(accuracy(net, val_features, validation[1], device, inputs="features"))
        return stopper.update(val_acc[-1], net)

    history = train_classifier(model, features, labels, recipe, device, seed, progress=progress, inputs="features",
                               after_epoch=watch).to_dict()
    stopper.restore(model)
    return {**history, "val_acc": val_acc, "early_stopping": stopper.summary()}


@torch.no_grad()
def predict_labels(model: nn.Module, features: torch.Tensor, device="cpu", batch_size: int = 512) -> torch.Tensor:
    """(N,) argmax of `model` (eval mode) over a feature bank, on the CPU."""
    model.eval().to(device)
    out = [model(features[s:s + batch_size].to(device).float()).argmax(1).cpu()
           for s in range(0, len(features), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.int64)
