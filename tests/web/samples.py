"""What the web tests upload: images of every mode, zips of them, and an untrained ConfounderGAN to protect them."""
import io
import zipfile

import numpy as np
import torch
from PIL import Image

from imageprivacy.nets.generator import GeneratorConfig, build_generator
from imageprivacy.protections import ConfounderGAN, ConfounderGANConfig
from imageprivacy.protections.pixel_budget import budget_in_levels

EPS = 8 / 255
BUDGET = budget_in_levels(EPS)      # 8 levels
RNG = np.random.default_rng(7)


def untrained_confoundergan(channels: int = 3, epsilon: float = EPS) -> ConfounderGAN:
    """A ConfounderGAN with its generator's initial weights, rebuilt as a checkpoint would rebuild it.

    Its initial patterns are sign-like (pattern_init 3 in nets/generator.py), so the noise uses
    nearly the whole budget (amplitude 1, not the default 0.875): the 8-bit bound is tested where it binds.
    """
    config = ConfounderGANConfig(generator=GeneratorConfig(channels=channels, num_classes=2, epsilon=epsilon,
                                                           width=4, amplitude=1.0))
    torch.manual_seed(0)
    meta = {"options": {"epsilon": epsilon, "config": config.to_dict()}, "channels": channels,
            "class_names": ["cats", "dogs"], "state": {"num_classes": 2}}
    return ConfounderGAN.from_checkpoint(build_generator(config.generator).state_dict(), meta)


def photo(mode: str = "RGB", size=(37, 23)) -> Image.Image:
    """A random image of `mode` and (width, height) `size`; 'P' gets a 256-colour palette, 'RGBA' a varied alpha."""
    width, height = size
    rgba = RNG.integers(0, 256, (height, width, 4), dtype=np.uint8)
    if mode == "RGBA":
        return Image.fromarray(rgba, "RGBA")
    if mode == "LA":
        return Image.fromarray(np.ascontiguousarray(rgba[..., [0, 3]]), "LA")
    rgb = Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB")
    if mode == "P":
        return rgb.quantize(colors=256)
    return rgb.convert(mode)


def encoded(image: Image.Image, format: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format, **options)
    return out.getvalue()


def zipped(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, data)
    return out.getvalue()


def decoded_pixels(data: bytes) -> np.ndarray:
    """(H, W, C) uint8 of an image file as the protection saw it (palette -> RGB, as data/image_files.py reads it)."""
    with Image.open(io.BytesIO(data)) as image:
        if image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        array = np.asarray(image)
    return array[..., None] if array.ndim == 2 else array
