"""The main job: protect a training set, and see what unauthorized trainers learn from it.

Every victim trains on the same images (`train_size`, seeded), protected five ways: clean, class-wise
noise (the bar to clear, docs/results.md), EMN, ConfounderGAN fitted on those very images
(in-distribution, the paper's setting), and ConfounderGAN fitted on `train_size` *other* training
images (`confoundergan-new`: a generator protecting images it never saw, from the image alone).
Each victim reports how well it fits its own training images (train_fit_acc); results JSON (+ the
generators) is written as each method ends. The methods run side by side, one forked process per core
(experiments/side_by_side.py: small victims train faster that way than with every core in one).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch
from safetensors.torch import save_file

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.errors import ConfigurationError
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.experiments.side_by_side import lane_threads, lanes_for, side_by_side
from imageprivacy.experiments.unlearnable.protection_factory import CLASSWISE_BAR, fit_and_protect, fit_protection
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.protections import save_protection


@dataclass
class DemoConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    train_size: int | None = 4_000         # None = half the training set (the other half fits confoundergan-new)
    test_size: int | None = 2_000          # None = the whole test set
    epsilon: float = 16 / 255
    generator_kind: str = "mixture"
    generator_epochs: int | None = None    # None: ConfounderGANConfig's default (train-generator's)
    recipes: tuple[str, ...] = ("paper",)  # small-cnn (~2 more minutes) is where no method protects
    victim_epochs: int = 25                # 4k x 25: clean 0.856, 8.6 min (demo-lane-order); 4k x 20: 0.835 (demo-bf16)
    victim_width: int | None = 16          # ResNet-18 at width 16 keeps the demo in minutes on a CPU
    methods: tuple[str, ...] = ("clean", "classwise", "emn", "confoundergan", "confoundergan-new")
    device: str = "cpu"
    seed: int = 0
    lanes: int | None = None               # methods run side by side; None: one lane per core on a Linux CPU (side_by_side.py)
    extra: dict = field(default_factory=dict)


# Cheaper-than-default baselines, so the whole job stays within 10 minutes on 2 CPU cores (measured in
# docs/results/demo): class-wise noise in 4-pixel sign blocks as in docs/results.md; EMN with a width-8
# surrogate as in the 10k suite (docs/results/suite.md), 4 rounds instead of 5 (139 s for 5 at 3k images).
DEMO_OPTIONS = {"classwise": CLASSWISE_BAR,
                "emn": {"surrogate_width": 8, "max_rounds": 4}}


def lane_order(methods) -> list:
    """EMN first, then the methods with nothing to fit, then the ConfounderGANs: the order the lanes take them.

    EMN's part (its fit, then its victim) is the longest; while it holds one lane, the other runs the
    victims that need no fit and then a ConfounderGAN, and the last ConfounderGAN goes to whichever lane
    frees first. Longest first (protection_factory.slowest_fit_first, the bench's order) put both
    ConfounderGANs behind each other in one lane: 618 s where each lane held 557 s of work on the 2-core
    CPU (docs/results/demo-lane-order/).
    """
    return sorted(methods, key=lambda name: (name != "emn", name.startswith("confoundergan")))


def load_split(cfg):
    """(seeded training subset of cfg.train_size, seeded test subset of cfg.test_size); None = all (the sweep's split)."""
    train = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir)
    test = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir)
    if cfg.train_size:
        train = train.random_subset(cfg.train_size, seed=cfg.seed)
    if cfg.test_size:
        test = test.random_subset(cfg.test_size, seed=cfg.seed + 1)
    return train, test


def load_demo_split(cfg: DemoConfig):
    """(victims' training images, disjoint images of the same size for confoundergan-new, test images)."""
    full = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir)
    test = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir)
    size = cfg.train_size or len(full) // 2
    if 2 * size > len(full):
        raise ConfigurationError(f"train_size {size} needs {2 * size} training images (half of them fit the "
                                 f"new-images generator); {cfg.data} has {len(full)}")
    order = full.shuffled_indices(cfg.seed)
    train, other = full.subset(order[:size]), full.subset(order[size:2 * size])
    if cfg.test_size:
        test = test.random_subset(cfg.test_size, seed=cfg.seed + 1)
    return train, other, test


def method_options(name: str, cfg: DemoConfig) -> dict:
    if name.startswith("confoundergan"):
        epochs = {} if cfg.generator_epochs is None else {"epochs": cfg.generator_epochs}
        return {"kind": cfg.generator_kind, **epochs, **cfg.extra}
    return dict(DEMO_OPTIONS.get(name, {}))


def protect_one(name: str, train, other, cfg: DemoConfig, progress):
    """(fitted method or None, protected `train`, fit seconds, the images the method was fitted on)."""
    if name == "confoundergan-new":
        method, seconds = fit_protection("confoundergan", other, cfg.epsilon, cfg.device, cfg.seed, progress,
                                         **method_options(name, cfg))
        return method, method.protect_set(train), seconds, other
    method, protected, seconds = fit_and_protect(name, train, cfg.epsilon, cfg.device, cfg.seed, progress,
                                                 **method_options(name, cfg))
    return method, protected, seconds, train


def run_method(name: str, cfg: DemoConfig, train, other, test, out_dir: Path, progress) -> dict:
    """One method from start to end, in a lane of its own (side_by_side.py): fit, protect, a victim per recipe."""
    torch.manual_seed(cfg.seed)          # the same start whichever lane, and after whichever method, it runs
    progress("stage", {"stage": f"protecting with {name}"})
    method, protected, fit_seconds, fitted_on = protect_one(name, train, other, cfg, progress)
    entry = None
    if method is not None:
        entry = {"repr": repr(method), "fit_seconds": fit_seconds, "fitted_on_protected_images": fitted_on is train,
                 "quality": protection_quality(train.images, protected.images),
                 "fit_record": method.fit_record, "label_consistency": method.label_consistency(train)}
        if name.startswith("confoundergan"):
            entry["checkpoint"] = str(save_protection(method, out_dir / f"{name}.safetensors"))
    victims = []
    for recipe_name in cfg.recipes:
        recipe = victim_recipe(recipe_name, epochs=cfg.victim_epochs,
                               width=cfg.victim_width if recipe_name == "paper" else None)
        progress("stage", {"stage": f"victim {recipe_name} on {name}"})
        start = time.perf_counter()
        run = train_victim(protected, test, recipe, device=cfg.device, seed=cfg.seed,
                           progress=lambda event, values: progress(event, {**values, "on": name}))
        victims.append({"method": name, "recipe_name": recipe_name, "seconds": time.perf_counter() - start, **run})
    return {"protection": entry, "protected": protected, "victims": victims}


def run_confounder_demo(cfg: DemoConfig, out_dir: str | Path, progress=None) -> dict:
    progress = progress or (lambda event, values: None)
    lanes = lanes_for(cfg.device, len(cfg.methods), cfg.lanes)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    train, other, test = load_demo_split(cfg)
    results = {"experiment": "confoundergan-demo", "config": asdict(cfg), "train_size": len(train),
               "test_size": len(test), "num_classes": train.num_classes, "lanes": lanes,
               "threads_per_lane": lane_threads(lanes), "protections": {}, "victims": []}
    order = {(r, m): i for i, (r, m) in enumerate((r, m) for r in cfg.recipes for m in cfg.methods)}
    protected_sets = {}
    part = partial(run_method, cfg=cfg, train=train, other=other, test=test, out_dir=out_dir, progress=progress)
    for name, row in side_by_side(part, lane_order(cfg.methods), lanes):
        protected_sets[name] = row["protected"]
        if row["protection"] is not None:
            results["protections"][name] = row["protection"]
        results["victims"] = sorted(results["victims"] + row["victims"],
                                    key=lambda v: order[(v["recipe_name"], v["method"])])
        write_results({**results, **provenance(cfg.device)}, out_dir / "results.json")  # partial, kept
    results["protections"] = {m: results["protections"][m] for m in cfg.methods if m in results["protections"]}
    protected_sets = {m: protected_sets[m] for m in cfg.methods}
    # The report draws the image grid from this file (nothing below report draws).
    grid = {k: v.images[:8].contiguous() for k, v in protected_sets.items()}
    save_file(grid, str(out_dir / "grid_images.safetensors"))
    results["grid_images"] = "grid_images.safetensors"
    results["seconds"] = time.perf_counter() - started
    results.update(provenance(cfg.device))
    write_results(results, out_dir / "results.json")
    return results, protected_sets, train
