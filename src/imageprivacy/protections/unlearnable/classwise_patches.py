"""Class-wise patches (CWP, ConfounderGAN paper section 4.2, Figure 2): the visible confounder.

Every image of class k gets the same patch P_k in its lower-right corner, and the classes' patches
differ, so the patch is a cause of both the pixels (P -> X) and the label (P -> Y). The paper puts
a 36x36 patch on 224x224 ImageNet25 images; the patch side here is that fraction of the image side.
"""
from __future__ import annotations

import torch

from imageprivacy.errors import ConfigurationError, InputShapeError
from imageprivacy.protections.base import Protection, register


def patch_side(size: int, fraction: float) -> int:
    """fraction * size rounded half up, at least one pixel (36/224 of 32 px -> 5 px, of 16 px -> 3 px)."""
    return max(1, int(fraction * size + 0.5))


@register
class ClassWisePatches(Protection):
    """One fixed patch per class pasted in the lower-right corner (it replaces those pixels).

    The paper does not say what the patches show (its appendix G.2 is not in our copy), so each
    class's patch is drawn uniformly at random in {0, 1} per pixel and channel from `seed`: black
    and white speckle, maximally distinct between classes. CWP is not an L-inf-bounded method:
    the change inside the patch can be the whole pixel range, so `bounded` is False and `epsilon`
    is ignored (it is accepted only so every method takes the same arguments).
    """

    name = "cwp"
    needs_labels_to_protect = True
    bounded = False

    def __init__(self, epsilon=8 / 255, patch_fraction: float = 36 / 224, device="cpu", seed=0, batch_size=256):
        super().__init__(epsilon, device, seed, batch_size)
        if not 0.0 < patch_fraction <= 1.0:
            raise ConfigurationError(f"patch_fraction must be in (0, 1], got {patch_fraction}")
        self.patch_fraction = float(patch_fraction)
        self.patches: torch.Tensor | None = None            # (K, C, ph, pw) in {0, 1}
        self.image_size: tuple[int, int] | None = None

    def _fit(self, data, progress):
        c, h, w = data.images.shape[1:]
        self.num_classes, self.image_size = data.num_classes, (h, w)
        side = (patch_side(h, self.patch_fraction), patch_side(w, self.patch_fraction))
        gen = torch.Generator().manual_seed(self.seed)
        self.patches = torch.randint(0, 2, (self.num_classes, c, *side), generator=gen).float()

    def _noise(self, x, labels):
        if tuple(x.shape[2:]) != self.image_size:
            # The patch side follows the fitted size: say so rather than paste a mis-scaled patch.
            raise InputShapeError(f"class-wise patches were fitted on {self.image_size} images, "
                                  f"got {tuple(x.shape[2:])}")
        ph, pw = self.patches.shape[2:]
        noise = torch.zeros_like(x)
        # patch - x inside the square: protect's x + noise then writes the patch pixels exactly.
        noise[:, :, -ph:, -pw:] = self.patches.to(x.device)[labels] - x[:, :, -ph:, -pw:]
        return noise

    def _repr_fields(self):
        return {"patch_fraction": f"{self.patch_fraction:.4g}", "device": str(self.device)}

    def checkpoint_state(self) -> tuple[dict, dict]:
        config = {"epsilon": self.epsilon, "patch_fraction": self.patch_fraction, "seed": self.seed,
                  "batch_size": self.batch_size}
        return ({"patches": self.patches.contiguous()},
                self._checkpoint_meta(config, image_size=self.image_size))

    @classmethod
    def from_checkpoint(cls, tensors: dict, meta: dict, device="cpu") -> "ClassWisePatches":
        self, state = cls._from_meta(meta, device)
        self.image_size = tuple(state["image_size"])
        self.patches = self._class_tensor(tensors, "patches")
        return self
