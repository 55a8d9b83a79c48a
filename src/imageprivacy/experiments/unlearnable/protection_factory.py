"""Build and apply a protection by name, the one place experiments turn a name into a method."""
from __future__ import annotations

import time

from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import ConfigurationError
from imageprivacy.protections import PROTECTIONS


# Class-wise sign noise in 4-pixel blocks: the bar ConfounderGAN is measured against (docs/results.md).
CLASSWISE_BAR = {"block": 4, "distribution": "sign"}


def slowest_fit_first(names, method=lambda name: name) -> list:
    """`names` with the slowest methods to fit first (EMN, then ConfounderGAN; the rest fit nothing): run side
    by side, the lane that ends last starts early. The bench's order; the demo's five parts pack better in
    demo.lane_order. `method` maps a name to its method (a bench part "seed/method" to "method")."""
    return sorted(names, key=lambda name: (method(name) != "emn", not method(name).startswith("confoundergan")))


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
    """(fitted method or None for "clean", protected copy of `train`, seconds to fit).

    A method that crafts its training set's noise during fit (sample-wise EMN: the bi-level min-min) gives
    that noise, as the paper does and the suite does (protected_sets.py); `protect_set` would run EMN's
    inner descent again from zero against the final surrogate, other noise, made for images it never saw.
    """
    method, seconds = fit_protection(name, train, epsilon, device, seed, progress, **options)
    if method is None:
        return None, train, seconds
    fitted = method.fitted_protection()
    return method, (method.protect_set(train) if fitted is None else fitted), seconds
