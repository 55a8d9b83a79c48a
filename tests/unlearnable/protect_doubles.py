"""What the tests of `imageprivacy protect` share: a tiny protection that needs no fitting, image files, hashes."""
import hashlib

import numpy as np
import torch
from PIL import Image

from imageprivacy.protections.base import Protection

EPS = 8 / 255
RNG = np.random.default_rng(1)


class AddNoise(Protection):
    """Test double: adds `signs[c] * epsilon` to channel c; raises on the `crash_on`-th batch."""

    name = "test-add-noise"
    needs_labels_to_fit = False

    def __init__(self, channels=3, signs=(1, 1, 1), crash_on=None, epsilon=EPS):
        super().__init__(epsilon=epsilon)
        self.fitted, self.channels, self.signs, self.crash_on = True, channels, signs, crash_on
        self.batches = []

    def _noise(self, x, labels):
        self.batches.append(tuple(x.shape))
        if len(self.batches) == self.crash_on:
            raise RuntimeError("simulated crash")
        signs = torch.tensor(self.signs[: x.shape[1]], dtype=x.dtype).view(1, -1, 1, 1)
        return self.epsilon * signs.expand_as(x)


def save_image(path, array, mode=None, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path, **kwargs)


def random_pixels(h=6, w=5, c=3, rng=RNG):
    return rng.integers(20, 230, (h, w, c) if c > 1 else (h, w), dtype=np.uint8)


def file_hashes(folder):
    """path -> sha256 of every file under folder (following no symlink into a loop)."""
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def visible_outputs(folder):
    """The visible files under folder (the manifest is hidden), as sorted relative paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and not p.name.startswith("."))


def untrained_generator(channels=3, epsilon=EPS, seed=0):
    """A tiny ConfounderGAN mixture generator with random weights, rebuilt as a checkpoint rebuilds one.

    Its cost and its bound are those of a trained one; what it learned does not matter to protect's tests.
    """
    from imageprivacy.nets.generator import GeneratorConfig, build_generator
    from imageprivacy.protections import ConfounderGAN, ConfounderGANConfig

    cfg = GeneratorConfig(channels=channels, num_classes=4, epsilon=epsilon, width=4, view_size=8, cell_size=2,
                          pattern_cells=4)
    meta = {"options": {"epsilon": epsilon, "config": ConfounderGANConfig(generator=cfg).to_dict()},
            "channels": channels, "state": {"num_classes": 4}, "class_names": [f"class{k}" for k in range(4)]}
    torch.manual_seed(seed)
    return ConfounderGAN.from_checkpoint(build_generator(cfg).state_dict(), meta)


def saved_generator(path, **options):
    from imageprivacy.protections import save_protection

    return save_protection(untrained_generator(**options), path)
