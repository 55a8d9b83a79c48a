"""The cells of the ConfounderGAN paper's experiments (and the defences beyond it).

A cell is one victim training run: which protected parts make up its training set, which victim
recipe overrides apply, and which data-side defence. Cells of different experiments that train on
the same data with the same recipe share one run (their `key` is equal), so the mixed-data and
the p = 90 % curves experiments do not train the "natural 100 %" victim twice.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from imageprivacy.errors import ConfigurationError


@dataclass(frozen=True)
class Part:
    """The training images at `take` ('all', 'head' = first p, 'tail' = the rest) of a protected set."""

    method: str                    # "natural" or a suite method (protected_sets.SUITE_METHODS)
    fit_fraction: float = 1.0      # the method was fitted on the first fit_fraction of the order
    take: str = "all"
    p: float = 1.0


@dataclass
class Cell:
    experiment: str
    series: str                    # the table row / figure line
    x: str | float                 # the table column / x value
    parts: tuple[Part, ...]
    victim: dict = field(default_factory=dict)     # victim_recipe overrides: arch, augment, mix, ...
    defence: str = "none"

    @property
    def key(self) -> str:
        """What the victim trains on and how: equal keys are one run, whatever the experiment."""
        return json.dumps({"parts": [asdict(p) for p in self.parts], "victim": self.victim,
                           "defence": self.defence}, sort_keys=True)


def _head(method: str, p: float, fit_fraction: float = 1.0) -> list[Part]:
    """The first p of `method`'s set ([] for p = 0, the whole set for p = 1)."""
    if p <= 0:
        return []
    return [Part(method, fit_fraction, "all" if p >= 1 else "head", 1.0 if p >= 1 else p)]


def _tail(p: float) -> list[Part]:
    return [] if p >= 1 else [Part("natural", 1.0, "all" if p <= 0 else "tail", 1.0 if p <= 0 else p)]


IN_DISTRIBUTION_METHODS = ("natural", "random", "cwn", "cwp", "emn", "confoundergan")
MIX_FRACTIONS = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)
TRANSFER_ARCHS = ("vgg11", "resnet50", "densenet121")
AUGMENTS = {"none": {"augment": ()}, "RHF": {"augment": ("flip",)}, "RC": {"augment": ("crop",)},
            "RHF+RC": {"augment": ("crop", "flip")}, "CutOut": {"augment": ("cutout",)},
            "MixUp": {"augment": (), "mix": "mixup"}, "CutMix": {"augment": (), "mix": "cutmix"},
            "AutoAugment": {"augment": ("autoaugment",)}}
DEFENCES = ("none", "grayscale", "jpeg", "median-blur", "bit-depth", "ueraser", "adversarial-training")


def in_distribution(methods=IN_DISTRIBUTION_METHODS) -> list[Cell]:
    """Paper Fig. 4a-b: the victim trains on 100 % protected data."""
    return [Cell("in-distribution", m, "resnet18", (Part(m),)) for m in methods]


def mixed(fractions=MIX_FRACTIONS) -> list[Cell]:
    """Paper Fig. 5: the five polylines over the protected fraction p."""
    cells = []
    for p in fractions:
        lines = {"1: natural 100 %": [Part("natural")],
                 "2: natural (1-p) only": _tail(p),
                 "3: EMN p + natural": _head("emn", p) + _tail(p),
                 "4: ConfounderGAN p + natural": _head("confoundergan", p, p) + _tail(p),
                 "5: ConfounderGAN p + OOD (1-p)": [Part("confoundergan", p)] if p > 0 else []}
        cells += [Cell("mixed", name, p, tuple(parts)) for name, parts in lines.items() if parts]
    return cells


def curves_90(p: float = 0.9) -> list[Cell]:
    """Paper Fig. 4c-d: accuracy per epoch at p = 90 %, with the '90 % protected only' curves."""
    lines = {"1: natural 100 %": [Part("natural")], "2: EMN 90 % + natural": _head("emn", p) + _tail(p),
             "3: ConfounderGAN 90 % + natural": _head("confoundergan", p, p) + _tail(p),
             "4: EMN 90 % only": _head("emn", p), "5: ConfounderGAN 90 % only": _head("confoundergan", p, p),
             "natural 10 % only": _tail(p)}
    return [Cell("curves-90", name, p, tuple(parts)) for name, parts in lines.items()]


def transfer(archs=TRANSFER_ARCHS, methods=("natural", "emn", "confoundergan")) -> list[Cell]:
    """Paper Table 1: f (and EMN's surrogate) is ResNet-18, the victim another architecture."""
    return [Cell("transfer", m, a, (Part(m),), {"arch": a}) for a in archs for m in methods]


def augment(methods=("natural", "emn", "confoundergan")) -> list[Cell]:
    """Paper Table 2: the victim's data augmentation."""
    return [Cell("augment", m, name, (Part(m),), dict(over)) for name, over in AUGMENTS.items() for m in methods]


def defences(methods=IN_DISTRIBUTION_METHODS, epsilon: float = 8 / 255) -> list[Cell]:
    """APBench / ISS defences; early stopping is the best-epoch figure every row carries."""
    cells = []
    for d in DEFENCES:
        victim = {"augment": ("ueraser",)} if d == "ueraser" else {}
        if d == "adversarial-training":
            victim = {"adversarial_epsilon": epsilon}   # PGD at the protection's own budget
        data_side = d if d not in ("ueraser", "adversarial-training") else "none"
        cells += [Cell("defences", m, d, (Part(m),), victim, data_side) for m in methods]
    return cells


def adaptive(methods=("confoundergan",)) -> list[Cell]:
    """The adaptive trainer (attacks/unlearnable/adaptive_denoiser.py): protected data as scraped vs after
    their noise remover."""
    cells = [Cell("adaptive", "natural", "as scraped", (Part("natural"),))]
    for m in methods:
        cells += [Cell("adaptive", m, "as scraped", (Part(m),)),
                  Cell("adaptive", m, "noise remover", (Part(f"{m}+remover"),))]
    return cells


def listing(cell: Cell) -> dict:
    """How results.json lists a cell."""
    return {"experiment": cell.experiment, "series": cell.series, "x": cell.x, "key": cell.key}


def listed_position(entry: dict) -> tuple[str, str, str]:
    """Where a listed cell sits in its experiment's table: one entry per position (x as text: JSON keeps no tuples)."""
    return entry["experiment"], entry["series"], str(entry["x"])


EXPERIMENTS = {"in-distribution": in_distribution, "mixed": mixed, "curves-90": curves_90,
               "transfer": transfer, "augment": augment, "defences": defences, "adaptive": adaptive}


def only_methods(cells: list[Cell], methods: list[str] | None) -> list[Cell]:
    """The cells whose training data comes from `methods` only (natural data always counts).

    A CPU budget rarely covers a whole experiment at a useful scale; this runs, say, the defences for
    natural / EMN / ConfounderGAN. The adaptive trainer's "+remover" sets count as their base method.
    """
    if methods is None:
        return cells
    known = {p.method.partition("+")[0] for name in EXPERIMENTS for c in EXPERIMENTS[name]() for p in c.parts}
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ConfigurationError(f"unknown suite method(s) {unknown}; known: {', '.join(sorted(known))}")
    allowed = {"natural", *methods}
    return [c for c in cells if all(p.method.partition("+")[0] in allowed for p in c.parts)]
