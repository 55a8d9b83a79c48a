"""The fast research bench: score one ConfounderGAN configuration in minutes on 2 CPU cores.

Per seed: a seeded subset of the training data (10k by default); clean, class-wise noise and
ConfounderGAN (the label-free path: the generator sees only the image) fitted on exactly the images
they protect; a fresh victim of each recipe on each. The results JSON keeps every run and, per
(method, recipe), the mean and spread (min, max) of the final and best-epoch test accuracy over the
seeds, so a lever is judged against seed noise (one seed's difference is often noise here). Each
(seed, method) is one part; the parts run side by side, one forked process per core (side_by_side.py).
"""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.experiments.side_by_side import lane_threads, lanes_for, side_by_side
from imageprivacy.experiments.unlearnable.protection_factory import CLASSWISE_BAR, fit_and_protect, slowest_fit_first
from imageprivacy.metrics.image_quality import protection_quality


@dataclass
class BenchConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    train_size: int = 10_000
    test_size: int = 2_000
    epsilon: float = 16 / 255
    seeds: tuple[int, ...] = (0, 1)
    methods: tuple[str, ...] = ("clean", "classwise", "confoundergan")
    recipes: tuple[str, ...] = ("paper", "small-cnn", "linear")
    victim_epochs: int = 5
    victim_width: int = 16
    options: dict = field(default_factory=dict)     # per method, e.g. {"confoundergan": {"epochs": 1}}
    device: str = "cpu"
    lanes: int | None = None        # parts side by side; None: one lane per core on a Linux CPU (side_by_side.py)


BASELINE_OPTIONS = {"classwise": CLASSWISE_BAR}


def summarise(runs: list[dict]) -> list[dict]:
    """Mean and range over seeds of each (method, recipe)."""
    rows = []
    for key in dict.fromkeys((r["method"], r["recipe_name"]) for r in runs):
        same = [r for r in runs if (r["method"], r["recipe_name"]) == key]
        row = {"method": key[0], "recipe_name": key[1], "seeds": [r["seed"] for r in same]}
        for metric in ("final_test_acc", "best_test_acc"):
            values = [r[metric] for r in same]
            row[metric] = {"mean": statistics.fmean(values), "min": min(values), "max": max(values)}
        rows.append(row)
    return rows


def run_part(part: str, cfg: BenchConfig, full, test, progress) -> dict:
    """One "seed/method" part, in a lane of its own (experiments/side_by_side.py): fit, protect, every victim."""
    seed, name = part.split("/", 1)
    seed = int(seed)
    torch.manual_seed(seed)         # the same start whichever lane, and after whichever part, it runs
    train = full.random_subset(cfg.train_size, seed=seed)
    progress("stage", {"stage": f"seed {seed}: protecting with {name}"})
    options = {**BASELINE_OPTIONS.get(name, {}), **cfg.options.get(name, {})}
    method, data, seconds = fit_and_protect(name, train, cfg.epsilon, cfg.device, seed, progress, **options)
    protection = None
    if method is not None:
        protection = {"method": name, "seed": seed, "repr": repr(method), "fit_seconds": seconds,
                      "label_consistency": method.label_consistency(train), "fit_record": method.fit_record,
                      "quality": protection_quality(train.images, data.images)}
    victims = []
    for recipe_name in cfg.recipes:
        recipe = victim_recipe(recipe_name, epochs=cfg.victim_epochs,
                               width=cfg.victim_width if recipe_name == "paper" else None)
        progress("stage", {"stage": f"seed {seed}: victim {recipe_name} on {name}"})
        run = train_victim(data, test, recipe, device=cfg.device, seed=seed)
        victims.append({"method": name, "recipe_name": recipe_name, **run})
    return {"protection": protection, "victims": victims}


def run_bench(cfg: BenchConfig, out_dir: str | Path, progress=None) -> dict:
    progress = progress or (lambda event, values: None)
    parts = [f"{seed}/{name}" for seed in cfg.seeds for name in cfg.methods]
    lanes = lanes_for(cfg.device, len(parts), cfg.lanes)
    full = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir)
    test = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir).random_subset(cfg.test_size, seed=10_000)
    results = {"experiment": "confoundergan-bench", "config": asdict(cfg), "lanes": lanes,
               "threads_per_lane": lane_threads(lanes), "protections": [], "victims": []}
    rank = {(seed, m, r): i for i, (seed, m, r) in
            enumerate((s, m, r) for s in cfg.seeds for m in cfg.methods for r in cfg.recipes)}
    order = slowest_fit_first(parts, method=lambda part: part.split("/", 1)[1])
    for _, row in side_by_side(partial(run_part, cfg=cfg, full=full, test=test, progress=progress), order, lanes):
        if row["protection"] is not None:
            results["protections"] = sorted(results["protections"] + [row["protection"]],
                                            key=lambda p: rank[(p["seed"], p["method"], cfg.recipes[0])])
        results["victims"] = sorted(results["victims"] + row["victims"],
                                    key=lambda v: rank[(v["seed"], v["method"], v["recipe_name"])])
        results["summary"] = summarise(results["victims"])
        write_results({**results, **provenance(cfg.device)}, Path(out_dir) / "results.json")
    return results
