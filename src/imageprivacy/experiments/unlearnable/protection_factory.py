"""Build and apply a protection by name, the one place experiments turn a name into a method."""
from __future__ import annotations

import time

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import ConfigurationError
from imageprivacy.protections import PROTECTIONS


# Class-wise sign noise in 4-pixel blocks: the bar ConfounderGAN is measured against (docs/results.md).
CLASSWISE_BAR = {"block": 4, "distribution": "sign"}


def fit_protection(name: str, train: ImageSet, epsilon: float, device="cpu", seed: int = 0,
                   progress=None, **options):
    """(method `name` fitted on `train`, or None for "clean"; seconds to fit)."""
    if name == "clean":
        return None, 0.0
    if name not in PROTECTIONS:
        raise ConfigurationError(f"unknown protection {name!r}; known: clean, {', '.join(sorted(PROTECTIONS))}")
    start = time.perf_counter()
    method = PROTECTIONS[name](epsilon=epsilon, device=device, seed=seed, **options)
    method.fit(train, progress=progress)
    return method, time.perf_counter() - start


def fit_and_protect(name: str, train: ImageSet, epsilon: float, device="cpu", seed: int = 0,
                    progress=None, **options):
    """(fitted method or None for "clean", protected copy of `train`, seconds to fit)."""
    method, seconds = fit_protection(name, train, epsilon, device, seed, progress, **options)
    return method, (train if method is None else method.protect_set(train)), seconds
