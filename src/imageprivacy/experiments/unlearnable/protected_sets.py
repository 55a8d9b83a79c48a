"""Protected copies of the suite's training set: fitted once, cached as safetensors, reused by every cell.

A protected set always covers the whole training set, in the suite's fixed order, so an experiment
takes any part of it by index. `fit_fraction` p < 1 fits the method on the first p of a seeded
order only (the paper's Polylines 4-5: "the generator for each point is trained with the same p %
data"); the images after that are then protected out of distribution.

Sample-wise EMN is transductive: its training-set noise is the one crafted during the bi-level
fit (`fitted_protection`), and for the mixed-data experiment it is crafted once on the whole set
and the first p taken from it, instead of one EMN fit per p (say so in the report).

"<method>+remover" is the adaptive trainer's view of a method's set: they hold the method (for
ConfounderGAN, its shared generator) and `attacker` clean images of their own, train a noise
remover on them (attacks/unlearnable/adaptive_denoiser.py) and run it over the protected set.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from imageprivacy.attacks.unlearnable.adaptive_denoiser import fit_noise_remover, remove_noise
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import ConfigurationError
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.protections import PROTECTIONS, load_protection, save_protection

# Suite names -> (registry name, fixed options). "cwn" draws sign noise in 4-pixel blocks: the
# strongest class-wise noise measured here (docs/results.md), the bar ConfounderGAN must clear.
SUITE_METHODS: dict[str, tuple[str, dict]] = {
    "random": ("random", {}),
    "cwn": ("classwise", {"block": 4}),
    "cwp": ("cwp", {}),
    "emn": ("emn", {"mode": "samplewise"}),
    "emn-classwise": ("emn", {"mode": "classwise"}),
    "confoundergan": ("confoundergan", {}),
}


class ProtectedSets:
    """`get(method, fit_fraction)` -> the whole training set protected by `method` (cached on disk)."""

    def __init__(self, train: ImageSet, epsilon: float, options: dict[str, dict], out_dir: Path,
                 device="cpu", seed: int = 0, progress=None, attacker: ImageSet | None = None):
        self.train, self.epsilon, self.options, self.attacker = train, epsilon, options, attacker
        self.dir, self.device, self.seed = Path(out_dir) / "protected", device, seed
        self.progress = progress or (lambda event, values: None)
        self.order = train.shuffled_indices(seed)           # the fixed order "first p" refers to
        self.records: dict[str, dict] = {}
        self._sets: dict[str, ImageSet] = {"natural@1": train}
        self._methods: dict[str, object] = {}               # fitted protections, for the adaptive trainer

    def indices(self, part: str, p: float) -> torch.Tensor:
        """'all', 'head' (the first p of the order) or 'tail' (the rest), as sorted indices."""
        k = int(round(p * len(self.train)))
        chosen = {"all": self.order, "head": self.order[:k], "tail": self.order[k:]}[part]
        return chosen.sort().values

    def get(self, method: str, fit_fraction: float = 1.0) -> ImageSet:
        key = f"{method}@{fit_fraction:g}"
        if key not in self._sets:
            self._sets[key] = self._load(key) or self._make(method, fit_fraction, key)
        return self._sets[key]

    def _made_by(self, method: str, fit_fraction: float) -> dict:
        base, _, adaptive = method.partition("+")
        if base not in SUITE_METHODS or adaptive not in ("", "remover"):
            raise ConfigurationError(f"unknown suite method {method!r}; known: natural, {', '.join(SUITE_METHODS)} "
                             "(each also as <method>+remover)")
        name, fixed = SUITE_METHODS[base]
        made_by = {"method": name, "options": {**fixed, **self.options.get(base, {})}, "epsilon": self.epsilon,
                   "fit_fraction": fit_fraction, "train_size": len(self.train), "seed": self.seed}
        if adaptive:
            made_by.update(adaptive=adaptive, attacker_size=len(self.attacker) if self.attacker else 0)
        return made_by

    def _method(self, method: str, fit_fraction: float):
        """The fitted protection behind a cached set (reloaded from its checkpoint after a restart)."""
        key = f"{method}@{fit_fraction:g}"
        if key not in self._methods:
            self.get(method, fit_fraction)
            path = self.dir / f"{key}.method.safetensors"
            if key not in self._methods and path.exists():
                self._methods[key] = load_protection(path, device=self.device)
        if key not in self._methods:
            raise ConfigurationError(f"{method} keeps no checkpoint, so the adaptive trainer cannot borrow it")
        return self._methods[key]

    def _make(self, method: str, fit_fraction: float, key: str) -> ImageSet:
        if not method.endswith("+remover"):
            return self._fit(method, fit_fraction, key)
        if self.attacker is None or not len(self.attacker):
            raise ConfigurationError("the adaptive trainer needs clean images of their own (attacker set)")
        base = method.removesuffix("+remover")
        self.progress("stage", {"stage": f"adaptive trainer: noise remover for {base}"})
        start = time.perf_counter()
        remover = fit_noise_remover(self._method(base, fit_fraction), self.attacker, device=self.device,
                                    seed=self.seed, progress=self.progress)
        images = remove_noise(remover, self.get(base, fit_fraction).images, device=self.device)
        record = {"fit_seconds": time.perf_counter() - start, "protect_seconds": 0.0,
                  "repr": f"NoiseRemover over {base}"}
        return self._store(key, self._made_by(method, fit_fraction), images, record)

    def _load(self, key: str) -> ImageSet | None:
        path = self.dir / f"{key}.safetensors"
        if not path.exists():
            return None
        method, fraction = key.split("@")
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads(handle.metadata()["record"])
            if meta["made_by"] != json.loads(json.dumps(self._made_by(method, float(fraction)))):
                return None                               # made with other settings: refit
            images = handle.get_tensor("images")
        self.records[key] = meta
        return self.train.with_images(images, name=f"{self.train.name}+{key}")

    def _fit(self, method: str, fit_fraction: float, key: str) -> ImageSet:
        made_by = self._made_by(method, fit_fraction)
        self.progress("stage", {"stage": f"fit {key}"})
        start = time.perf_counter()
        protection = PROTECTIONS[made_by["method"]](epsilon=self.epsilon, device=self.device, seed=self.seed,
                                                    **made_by["options"])
        fit_on = self.train if fit_fraction >= 1 else self.train.subset(self.indices("head", fit_fraction))
        protection.fit(fit_on, progress=self.progress)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        fitted = protection.fitted_protection() if fit_fraction >= 1 else None   # EMN: the bi-level fit's noise
        images = (protection.protect_set(self.train) if fitted is None else fitted).images
        record = {"repr": repr(protection), "fit_seconds": fit_seconds,
                  "protect_seconds": time.perf_counter() - start, "fit_record": protection.fit_record,
                  "label_consistency": protection.label_consistency(self.train)}
        self._methods[key] = protection
        self.dir.mkdir(parents=True, exist_ok=True)          # kept so a restarted adaptive trainer can borrow it
        save_protection(protection, self.dir / f"{key}.method.safetensors")
        return self._store(key, made_by, images, record)

    def _store(self, key: str, made_by: dict, images, record: dict) -> ImageSet:
        record = {"made_by": made_by, **record, "quality": protection_quality(self.train.images, images)}
        self.records[key] = json.loads(json.dumps(record, default=str))
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f"{key}.safetensors.tmp"
        save_file({"images": images.contiguous()}, str(tmp), metadata={"record": json.dumps(self.records[key])})
        tmp.replace(self.dir / f"{key}.safetensors")
        return self.train.with_images(images, name=f"{self.train.name}+{key}")
