"""Shared fixtures: tiny seeded image sets whose classes are easy to tell apart, tiny fitted protections."""
import matplotlib

matplotlib.use("Agg")            # figures in tests never need a display

import gzip  # noqa: E402
import os  # noqa: E402
import struct  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
# The first optimiser imports torch._dynamo (2-5 s here): pay that once at collection, so the
# timings of `pytest --durations` charge it to no test in particular.
import torch._dynamo  # noqa: E402, F401
from PIL import Image  # noqa: E402

os.environ["IMAGEPRIVACY_PRECISION"] = "float32"     # also for the command lines tests start; see below
from imageprivacy.data.imageset import ImageSet  # noqa: E402
from imageprivacy.protections import PROTECTIONS  # noqa: E402
from imageprivacy.training.accelerator import set_precision  # noqa: E402

# The cheapest settings of every registered protection (unknown names: the class defaults).
# Tiny tensors gain nothing from intra-op threads, and on a busy 2-core machine OpenMP's spinning
# threads make a tiny ConfounderGAN fit ~20x slower (2.4 s vs 0.1 s measured): one thread.
torch.set_num_threads(1)

TINY_OPTIONS = {
    "confoundergan": dict(epochs=1, f_epochs=1, width=4, f_arch="small-cnn", f_width=4),
    # A width-4 ResNet-18 pass on 64 images costs ~70 ms: few rounds and steps.
    "emn": dict(surrogate_width=4, max_rounds=2, train_steps=2, steps=3),
}


def make_imageset(n=64, channels=1, size=16, classes=4, seed=0, labelled=True, name="tiny") -> ImageSet:
    """uint8 noise in [0, 64) plus a bright (+160) quadrant chosen by the class: separable by eye.

    Classes are balanced (label i % classes, then shuffled); RGB images also get the class's own
    colour channel brightened, so 3 classes differ in colour as well as in position.
    """
    assert 1 <= classes <= 4
    gen = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % classes)[torch.randperm(n, generator=gen)]
    images = torch.randint(0, 64, (n, channels, size, size), generator=gen)
    half = size // 2
    for i, c in enumerate(labels.tolist()):
        r, q = divmod(c, 2)
        images[i, :, r * half:(r + 1) * half, q * half:(q + 1) * half] += 160
        if channels == 3:
            images[i, c % 3] += 30
    images = images.clamp(0, 255).to(torch.uint8)
    return ImageSet(images, labels if labelled else None, [f"class{k}" for k in range(classes)], name)


def write_image_folder(data: ImageSet, root):
    """data as PNGs in root/<class name>/<index>.png (the ImageFolder layout the CLI reads)."""
    for i, (pixels, label) in enumerate(zip(data.images, data.labels.tolist())):
        folder = root / data.class_names[label]
        folder.mkdir(parents=True, exist_ok=True)
        array = pixels.permute(1, 2, 0).numpy()
        Image.fromarray(array[..., 0] if array.shape[2] == 1 else np.ascontiguousarray(array)).save(
            folder / f"{i:03d}.png")
    return root


def write_idx(path: Path, array: np.ndarray, code: int = 0x08) -> Path:
    """IDX: 00 00, dtype code, ndim, big-endian uint32 dims, big-endian data; gzip if path ends in .gz."""
    raw = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def write_fashion_mnist(root, train: ImageSet, test: ImageSet):
    """1-channel ImageSets as the four Fashion-MNIST IDX files, so the real loader reads them."""
    root.mkdir(parents=True, exist_ok=True)
    for prefix, data in (("train", train), ("t10k", test)):
        write_idx(root / f"{prefix}-images-idx3-ubyte", data.images[:, 0].numpy())
        write_idx(root / f"{prefix}-labels-idx1-ubyte", data.labels.numpy().astype(np.uint8))
    return root


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(autouse=True)
def _float32_training():
    """Tests train in float32 whatever the machine's CPU (bf16 autocast on tiny nets is slower, and its
    figures would differ between machines); tests/test_accelerator.py checks the "auto" choice itself."""
    set_precision("float32")       # before every test, so one that chose another leaves nothing behind


@pytest.fixture(scope="session")
def labelled_folder(tmp_path_factory):
    """A data folder as `--data DIR` takes it: train/ and test/, one subfolder per class (32 + 16 images)."""
    root = tmp_path_factory.mktemp("data")
    write_image_folder(make_imageset(n=32, seed=3), root / "train")
    write_image_folder(make_imageset(n=16, seed=4), root / "test")
    return root


@pytest.fixture(scope="session")
def tiny_set() -> ImageSet:
    """64 gray 1x16x16 images, 4 classes."""
    return make_imageset()


@pytest.fixture(scope="session")
def tiny_test_set() -> ImageSet:
    """A held-out set drawn like tiny_set, from another seed."""
    return make_imageset(n=48, seed=1, name="tiny-test")


@pytest.fixture(scope="session")
def tiny_rgb_set() -> ImageSet:
    """48 RGB 3x16x16 images, 3 classes."""
    return make_imageset(n=48, channels=3, classes=3, seed=2, name="tiny-rgb")


@pytest.fixture(scope="session")
def fit_protection(tiny_set, tiny_rgb_set):
    """fit(name, rgb=False, **options) -> a fitted protection, cached for the session.

    Callers must not modify what they get (no .to(), no refit): other tests share it.
    """
    cache = {}

    def fit(name, rgb=False, **options):
        key = (name, rgb, tuple(sorted(options.items())))
        if key not in cache:
            kwargs = {**TINY_OPTIONS.get(name, {}), "seed": 0, **options}
            cache[key] = PROTECTIONS[name](**kwargs).fit(tiny_rgb_set if rgb else tiny_set)
        return cache[key]
    return fit
