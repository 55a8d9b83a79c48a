"""Classifier backbones by name: the victims and the ConfounderGAN's feature extractor f."""
from __future__ import annotations

import inspect
from typing import Callable

from torch import nn

from imageprivacy.errors import ConfigurationError
from imageprivacy.nets.densenet import densenet121
from imageprivacy.nets.resnet import resnet18, resnet50
from imageprivacy.nets.small_cnn import LinearClassifier, SmallCNN
from imageprivacy.nets.vgg import vgg11, vgg16

# Every factory takes (in_channels, num_classes) and some of width / image_size as keywords;
# each keeps its own default width (64 for resnet/vgg/densenet, 32 for small-cnn).
NETS: dict[str, Callable[..., nn.Module]] = {
    "resnet18": resnet18,
    "resnet50": resnet50,
    "vgg11": vgg11,
    "vgg16": vgg16,
    "densenet121": densenet121,
    "small-cnn": SmallCNN,
    "linear": LinearClassifier,
}


def build_net(name: str, in_channels: int, num_classes: int, width: int | None = None,
              image_size: int | tuple[int, int] = 32) -> nn.Module:
    """A freshly initialised classifier mapping (N, in_channels, H, W) floats to (N, num_classes) logits.

    `width` None means the net's standard width; `image_size` matters only to nets whose size is
    fixed at construction ("linear"); the others accept any input of at least 8x8.
    """
    if name not in NETS:
        raise ConfigurationError(f"unknown network {name!r}; known: {', '.join(sorted(NETS))}")
    for label, value in (("in_channels", in_channels), ("num_classes", num_classes)):
        if int(value) < 1:
            raise ConfigurationError(f"{label} must be >= 1, got {value}")
    if width is not None and int(width) < 1:
        raise ConfigurationError(f"width must be >= 1 or None, got {width}")
    factory = NETS[name]
    # Pass only the keywords a net takes, so width is silently unused by "linear" and
    # image_size by the size-agnostic nets.
    accepted = inspect.signature(factory).parameters
    kwargs: dict = {}
    if width is not None and "width" in accepted:
        kwargs["width"] = int(width)
    if "image_size" in accepted:
        kwargs["image_size"] = image_size
    return factory(in_channels=int(in_channels), num_classes=int(num_classes), **kwargs)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters (trainable or not; buffers such as BN running stats excluded)."""
    return sum(p.numel() for p in model.parameters())
