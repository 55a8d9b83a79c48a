"""Split a registered backbone at a named hook point into featurizer phi1 and classifier phi2.

Phi(x) = phi2(phi1(x)) exactly (DPF paper, eq. 2): both halves hold the backbone's own modules,
run in the backbone's order, so they share its weights and a split changes no arithmetic.

Hook names follow the papers' tables; the featurizer runs *through* the named block and its output
is the released feature map.
- ResNet (He et al. Table 1): "conv1" is our 3x3 stem; "convK_i" is block i of stage K, i.e.
  conv2_i = layer1[i-1], conv3_i = layer2[i-1], conv4_i = layer3[i-1], conv5_i = layer4[i-1].
  The DPF paper's hooks conv2_1, conv2_3, conv3_1, conv4_1 give 56, 56, 28, 14 pixels at 224x224
  in ImageNet ResNets; our CIFAR-style ResNets have no stride-2 stem or max-pool, so on 28x28
  they give 28, 28, 14, 7 (1, 1, 1/2, 1/4 of the input side). ResNet-18 has two blocks per
  stage, so it has no conv2_3 (ResNet-50 has).
- VGG: "convB_i" is the i-th conv-BN-ReLU of block B, "poolB" the max-pool closing block B.
- DenseNet: "conv1", "denseB_i" (layer i of dense block B), "transitionB".
- small-cnn: "conv1", "pool1", "conv2", "pool2".
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from imageprivacy.errors import UnknownHookError
from imageprivacy.nets.densenet import DenseNet, Transition
from imageprivacy.nets.registry import build_net
from imageprivacy.nets.resnet import ResNet
from imageprivacy.nets.small_cnn import SmallCNN
from imageprivacy.nets.vgg import VGG, PoolUnlessTiny

PAPER_HOOKS = ("conv2_1", "conv2_3", "conv3_1", "conv4_1")


class SplitNet(NamedTuple):
    featurizer: nn.Sequential      # phi1: images -> feature maps at the hook
    classifier: nn.Sequential      # phi2: feature maps -> logits


@dataclass(frozen=True)
class BackboneSpec:
    """What build_net needs to rebuild a backbone; stored as JSON next to split weights."""
    name: str
    in_channels: int
    num_classes: int
    width: int | None = None

    def build(self) -> nn.Module:
        return build_net(self.name, self.in_channels, self.num_classes, width=self.width)


def _resnet_pieces(net: ResNet):
    # ResNet names its own points (conv1, conv2_1, ...) in forward order: one naming, kept there.
    pieces = [(name, net.get_submodule(path)) for name, path in net.feature_points().items()]
    return pieces, nn.Sequential(net.pool, nn.Flatten(1), net.linear)


def _vgg_pieces(net: VGG):
    pieces, layers, block, conv = [], list(net.features), 1, 0
    i = 0
    while i < len(layers):
        if isinstance(layers[i], PoolUnlessTiny):
            pieces.append((f"pool{block}", layers[i]))
            block, conv, i = block + 1, 0, i + 1
        else:  # conv, BN, ReLU travel together: a hook never exposes a pre-activation map
            conv += 1
            pieces.append((f"conv{block}_{conv}", nn.Sequential(*layers[i:i + 3])))
            i += 3
    return pieces, nn.Sequential(net.pool, nn.Flatten(1), net.classifier)


def _densenet_pieces(net: DenseNet):
    pieces, block = [("conv1", net.conv1)], 1
    for stage in net.features:
        if isinstance(stage, Transition):
            pieces.append((f"transition{block}", stage))
            block += 1
        else:
            pieces += [(f"dense{block}_{i + 1}", layer) for i, layer in enumerate(stage)]
    return pieces, nn.Sequential(net.bn, nn.ReLU(), net.pool, nn.Flatten(1), net.linear)


def _small_cnn_pieces(net: SmallCNN):
    f = list(net.features)
    pieces = [("conv1", nn.Sequential(*f[0:3])), ("pool1", f[3]), ("conv2", nn.Sequential(*f[4:7])), ("pool2", f[7])]
    return pieces, nn.Sequential(f[8], net.classifier)


_PIECES = [(ResNet, _resnet_pieces), (VGG, _vgg_pieces), (DenseNet, _densenet_pieces), (SmallCNN, _small_cnn_pieces)]


def _pieces(net: nn.Module):
    for kind, pieces in _PIECES:
        if isinstance(net, kind):
            return pieces(net)
    raise UnknownHookError(f"{type(net).__name__} has no hook points; splittable: "
                           f"{', '.join(k.__name__ for k, _ in _PIECES)}")


def hook_points(net: nn.Module) -> list[str]:
    """The hook names of `net` in forward order."""
    return [name for name, _ in _pieces(net)[0]]


def split_at(net: nn.Module, hook: str) -> SplitNet:
    """(phi1, phi2) sharing `net`'s modules; phi1 ends with the block named `hook`."""
    pieces, head = _pieces(net)
    names = [name for name, _ in pieces]
    if hook not in names:
        raise UnknownHookError(f"{type(net).__name__} has no hook {hook!r}; it has {', '.join(names)}")
    cut = names.index(hook) + 1
    featurizer = nn.Sequential(OrderedDict(pieces[:cut]))
    classifier = nn.Sequential(OrderedDict(pieces[cut:] + [("head", head)]))
    return SplitNet(featurizer, classifier)


def build_split(spec: BackboneSpec, hook: str) -> SplitNet:
    """A freshly initialised backbone of `spec`, split at `hook`."""
    return split_at(spec.build(), hook)


@torch.no_grad()
def feature_shape(featurizer: nn.Module, image_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """(C, h, w) of the features phi1 makes from one (C, H, W) image; BN statistics stay untouched."""
    was_training = featurizer.training
    featurizer.eval()
    try:
        param = next(featurizer.parameters(), None)
        device = param.device if param is not None else "cpu"
        out = featurizer(torch.zeros(1, *image_shape, device=device))
    finally:
        featurizer.train(was_training)
    return tuple(out.shape[1:])
