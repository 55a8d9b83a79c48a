"""Run the ConfounderGAN paper's experiments (suite_cells) and write one results.json for the report.

    imageprivacy suite in-distribution,transfer --out runs/suite [--train-size 5000] [--device cuda]

Each protected training set is fitted once (protected_sets), each distinct victim run once; rows
are written as they finish and a re-run with the same config skips the finished ones, so a long
CPU run survives interruption. The scale (training/test size, victim epochs and width) is in the
config the report prints: on a CPU it is reduced, and the report says so.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import ConfigurationError
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.experiments.side_by_side import lanes_for, side_by_side
from imageprivacy.experiments.unlearnable.protected_sets import ProtectedSets
from imageprivacy.experiments.unlearnable.suite_cells import EXPERIMENTS, Cell, listed_position, listing, only_methods
from imageprivacy.protections.unlearnable.confounder_gan import paper_default_epsilon


@dataclass
class SuiteConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    train_size: int | None = 5_000          # None = the whole training set (GPU scale)
    test_size: int | None = 2_000
    epsilon: float | None = None            # None = the paper's: 8/255 RGB, 16/255 for 28x28 / gray
    victim_epochs: int = 5
    victim_width: int | None = 16           # None = standard widths (GPU scale)
    attacker_size: int = 1_000              # the adaptive trainer's own clean images, never in `train`
    options: dict = field(default_factory=lambda: {
        "confoundergan": {},                 # train-generator's defaults: the configuration users get
        "emn": {"surrogate_width": 16, "max_rounds": 10},
        "emn-classwise": {"surrogate_width": 16, "max_rounds": 10}})
    device: str = "cpu"
    seed: int = 0


def _load(cfg: SuiteConfig) -> tuple[ImageSet, ImageSet, ImageSet]:
    """(training set, clean test set, the adaptive trainer's images): the first and last are disjoint."""
    full = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir)
    test = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir)
    order = full.shuffled_indices(cfg.seed)
    attacker = order[:min(cfg.attacker_size, len(full) // 2)]
    rest = order[len(attacker):]
    train_idx = rest[:cfg.train_size] if cfg.train_size else rest
    if cfg.test_size:
        test = test.random_subset(cfg.test_size, seed=cfg.seed + 1)
    return full.subset(train_idx.sort().values), test, full.subset(attacker.sort().values)


def training_set(cell: Cell, sets: ProtectedSets) -> ImageSet:
    parts = [sets.get(p.method, p.fit_fraction).subset(sets.indices(p.take, p.p)) for p in cell.parts]
    return ImageSet.concat([p for p in parts if len(p)])


def _victim_row(key: str, cfg: SuiteConfig, cells: dict[str, Cell], data: dict[str, ImageSet], test: ImageSet,
                progress) -> dict:
    """One cell's victim, in a lane of its own: its row of results.json."""
    cell, train = cells[key], data[key]
    torch.manual_seed(cfg.seed)     # a defence's random draws start alike whichever lane and order it runs in
    width = cfg.victim_width if cell.victim.get("arch", "resnet18") not in ("small-cnn", "linear") else None
    recipe = victim_recipe("paper", epochs=cfg.victim_epochs, width=width, **cell.victim)
    progress("stage", {"stage": f"{cell.experiment}: {cell.series} / {cell.x} ({len(train)} images)"})
    start = time.perf_counter()
    run = train_victim(train, test, recipe, device=cfg.device, seed=cfg.seed, defence=cell.defence)
    return {"seconds": time.perf_counter() - start, **run}


def run_suite(cfg: SuiteConfig, experiments: list[str], out_dir: str | Path, progress=None,
              methods: list[str] | None = None, lanes: int | None = None) -> dict:
    """Run the experiments' cells (only those of `methods` when given; see suite_cells.only_methods).

    `lanes`: victims side by side, None = one lane per core on a Linux CPU (side_by_side.py). It is not part
    of the config, so a run resumes whatever lanes it had."""
    progress = progress or (lambda event, values: None)
    unknown = [e for e in experiments if e not in EXPERIMENTS]
    if unknown:
        raise ConfigurationError(f"unknown experiment(s) {unknown}; known: {', '.join(EXPERIMENTS)}")
    out_dir = Path(out_dir)
    out = out_dir / "results.json"
    config = json.loads(json.dumps(asdict(cfg)))
    previous = json.loads(out.read_text()) if out.exists() else {}
    rows = previous.get("rows", {}) if previous.get("config") == config else {}
    train, test, attacker = _load(cfg)
    epsilon = cfg.epsilon or paper_default_epsilon(train.channels, train.image_size[0])
    sets = ProtectedSets(train, epsilon, cfg.options, out_dir, cfg.device, cfg.seed, progress, attacker)
    cells = only_methods([c for name in experiments
                          for c in (EXPERIMENTS[name](epsilon=epsilon) if name == "defences" else EXPERIMENTS[name]())],
                         methods)
    listed = previous.get("cells", []) if rows else []
    seen = {listed_position(c) for c in listed}
    listed += [entry for entry in map(listing, cells) if listed_position(entry) not in seen]
    results = {"experiment": "confoundergan-paper-suite", "config": config, "epsilon": epsilon,
               "train_size": len(train), "test_size": len(test), "num_classes": train.num_classes,
               "channels": train.channels, "cells": listed, "rows": rows,
               "protected": previous.get("protected", {}) if rows else {}}
    pending = {cell.key: cell for cell in cells if cell.key not in rows}
    lanes = lanes_for(cfg.device, len(pending), lanes)
    # Every training set first, in this process (each fit is cached and shared by cells), then the victims
    # side by side (experiments/side_by_side.py), each row written as it ends.
    data = {key: training_set(cell, sets) for key, cell in pending.items()}
    results["protected"].update(sets.records)
    results["lanes"] = lanes
    part = partial(_victim_row, cfg=cfg, cells=pending, data=data, test=test, progress=progress)
    for key, row in side_by_side(part, list(pending), lanes):
        rows[key] = row
        write_results({**results, **provenance(cfg.device)}, out)
    results.update(provenance(cfg.device))
    write_results(results, out)
    return results
