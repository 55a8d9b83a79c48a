"""Training-time augmentations by name (kornia), shared by every classifier the package trains.

Every augmentation maps float (N, C, H, W) batches in [0, 1] to the same shape and range, for C = 1
or 3, and runs on the batch *after* any protection was applied (as an unauthorized trainer would):

- "crop": random crop with 4-pixel zero padding; "flip": horizontal flip (the EMN/paper protocol);
- "cutout": one square hole per image (DeVries & Taylor 2017): 16x16 on 32x32, i.e. half the
  shorter side, centre uniform over the image so the hole may be cut off by the border, filled 0;
- "autoaugment": kornia's AutoAugment with the "cifar10" policy, a sub-policy drawn per *image*
  (stand-in for Fast AutoAugment, the "FA" column of ConfounderGAN's Table 2);
- "ueraser": UEraser-Lite-style heavy augmentation (Qin et al. 2023), see `_ueraser`.

Label-mixing augmentations (MixUp, CutMix) change the targets too, so they live in
`training.mixing` and are chosen by `TrainRecipe.mix`, not here.
"""
from __future__ import annotations

import kornia.augmentation as K
import torch
from kornia.augmentation.auto import AutoAugment
from torch import nn

from imageprivacy.errors import ConfigurationError


class Cutout(nn.Module):
    """One square zero hole per image, side `fraction` of the shorter image side (DeVries & Taylor).

    Written by hand rather than with RandomErasing, because Cutout lets the hole overhang the border
    (the centre is uniform over the image), which makes the expected erased area smaller than the
    nominal square; RandomErasing always keeps the rectangle inside.
    """

    def __init__(self, fraction: float = 0.5):
        super().__init__()
        self.fraction = fraction

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        side = max(1, round(self.fraction * min(h, w)))
        cy = torch.randint(0, h, (n, 1, 1), device=x.device)
        cx = torch.randint(0, w, (n, 1, 1), device=x.device)
        ys = torch.arange(h, device=x.device).view(1, h, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, w)
        # Same extent as the reference code: rows [cy - side//2, cy - side//2 + side), clipped.
        top, left = cy - side // 2, cx - side // 2
        hole = (ys >= top) & (ys < top + side) & (xs >= left) & (xs < left + side)
        return x * (~hole).unsqueeze(1).to(x.dtype)


class PerImageAutoAugment(nn.Module):
    """kornia AutoAugment ("cifar10" policy), with a sub-policy drawn independently for every image.

    kornia draws *one* sub-policy per forward call, i.e. per batch, whereas AutoAugment (and Fast
    AutoAugment) draws one per image: a whole batch sharing one sub-policy is a different, less
    diverse augmentation. So we draw an index per image and run each drawn sub-policy once on its
    group (at most 25 calls per batch; about 4x slower than kornia's per-batch draw on CPU).

    Grayscale: the "color" (saturation) operation only accepts 3 channels, so 1-channel batches are
    repeated to 3 channels and averaged back. Every other operation treats equal channels equally,
    and saturation leaves a gray image gray, so this equals AutoAugment on the gray image itself.
    """

    def __init__(self, policy: str = "cifar10"):
        super().__init__()
        self.subpolicies = nn.ModuleList(AutoAugment(policy).children())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gray = x.shape[1] == 1
        rgb = x.expand(-1, 3, -1, -1) if gray else x
        choice = torch.randint(0, len(self.subpolicies), (len(x),), device=x.device)
        out = rgb.clone()
        for k in choice.unique().tolist():
            rows = (choice == k).nonzero().flatten()
            out[rows] = self.subpolicies[k](rgb[rows]).to(out.dtype)
        return out.mean(1, keepdim=True) if gray else out


def _ueraser(size: tuple[int, int]) -> nn.Module:
    """UEraser-Lite-style heavy augmentation: one draw per image, no loss-maximising repeats.

    Following the UEraser code (kornia): plasma (fractal) brightness and contrast on every image,
    which perturb the low-level pixel statistics that unlearnable noise relies on, and a channel
    shuffle with p=0.5 (the identity on 1-channel images, so RGB only in effect). Instead of the
    TrivialAugment stage of the original we end with RandomErasing (p=0.5, kornia defaults: 2-33 %
    of the area, aspect 0.3-3.3), as APBench-style "heavy and diverse" recipes do; combine with
    "autoaugment" in `TrainRecipe.augment` to add a policy stage as well. UEraser-Max (the worst of
    K repeats per image, chosen by loss) is not implemented.
    """
    return nn.Sequential(
        K.RandomPlasmaBrightness(roughness=(0.1, 0.7), intensity=(0.0, 1.0), p=1.0),
        K.RandomPlasmaContrast(roughness=(0.1, 0.7), p=1.0),
        K.RandomChannelShuffle(p=0.5),
        K.RandomErasing(scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, p=0.5),
    )


AUGMENTATIONS = {
    "crop": lambda size: K.RandomCrop(size, padding=4),
    "flip": lambda size: K.RandomHorizontalFlip(),
    "cutout": lambda size: Cutout(0.5),
    "autoaugment": lambda size: PerImageAutoAugment("cifar10"),
    "ueraser": _ueraser,
}


def check_augmentations(names: tuple[str, ...] | list[str], where: str = "") -> None:
    """ConfigurationError naming the augmentations that are not in AUGMENTATIONS (`where` says whose)."""
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ConfigurationError(f"unknown augmentation(s) {unknown}{where}; known: {sorted(AUGMENTATIONS)}")


def build_augmentation(names: tuple[str, ...] | list[str], size: tuple[int, int]) -> nn.Module:
    """A pipeline applying the named augmentations in order (identity when empty)."""
    check_augmentations(names)
    return nn.Sequential(*[AUGMENTATIONS[n](size) for n in names])
