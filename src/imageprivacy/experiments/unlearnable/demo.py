"""The main job: train ConfounderGAN, protect the training set, and see what unauthorized trainers learn.

Steps: load the data; fit ConfounderGAN (pretrain f, train G against D); protect the training set;
protect it with class-wise noise too (the bar to clear, docs/background.md section 1); train a fresh victim of
each recipe on clean, class-wise and ConfounderGAN data; write results JSON (+ the generator).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import save_file

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.experiments.unlearnable.protection_factory import fit_and_protect
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.protections import ConfounderGAN, save_protection


@dataclass
class DemoConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    train_size: int | None = 5_000         # None = the whole training set
    test_size: int | None = 2_000          # None = the whole test set
    epsilon: float = 16 / 255
    generator_kind: str = "mixture"
    generator_epochs: int = 5              # 3 did not protect at all (docs/results.md)
    f_epochs: int = 1
    f_width: int | None = 16
    alpha: float = 1.0
    c_ratio: float = 0.8
    recipes: tuple[str, ...] = ("paper", "small-cnn", "linear")
    victim_epochs: int = 5
    victim_width: int | None = 16          # ResNet-18 at width 16 keeps the demo in minutes on a CPU
    methods: tuple[str, ...] = ("clean", "classwise", "confoundergan")
    device: str = "cpu"
    seed: int = 0
    extra: dict = field(default_factory=dict)


def load_split(cfg: DemoConfig):
    train = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir)
    test = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir)
    if cfg.train_size:
        train = train.random_subset(cfg.train_size, seed=cfg.seed)
    if cfg.test_size:
        test = test.random_subset(cfg.test_size, seed=cfg.seed + 1)
    return train, test


def method_options(name: str, cfg: DemoConfig) -> dict:
    if name == "confoundergan":
        return {"kind": cfg.generator_kind, "epochs": cfg.generator_epochs, "f_epochs": cfg.f_epochs,
                "f_width": cfg.f_width, "alpha": cfg.alpha, "c_ratio": cfg.c_ratio, **cfg.extra}
    return {}


def run_confounder_demo(cfg: DemoConfig, out_dir: str | Path, progress=None) -> dict:
    progress = progress or (lambda event, values: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    train, test = load_split(cfg)
    results = {"experiment": "confoundergan-demo", "config": asdict(cfg), "train_size": len(train),
               "test_size": len(test), "num_classes": train.num_classes, "protections": {}, "victims": []}
    protected_sets = {}
    for name in cfg.methods:
        progress("stage", {"stage": f"protecting with {name}"})
        method, protected, fit_seconds = fit_and_protect(name, train, cfg.epsilon, cfg.device, cfg.seed,
                                                         progress, **method_options(name, cfg))
        protected_sets[name] = protected
        if method is None:
            continue
        entry = {"repr": repr(method), "fit_seconds": fit_seconds,
                 "quality": protection_quality(train.images, protected.images)}
        if isinstance(method, ConfounderGAN):
            entry["history"] = method.fit_record
            entry["label_consistency"] = method.label_consistency(train)
            entry["checkpoint"] = str(save_protection(method, out_dir / "generator.safetensors"))
        results["protections"][name] = entry
    # The report draws the image grid from this file (nothing below report draws).
    grid = {k: v.images[:8].contiguous() for k, v in protected_sets.items()}
    save_file(grid, str(out_dir / "grid_images.safetensors"))
    results["grid_images"] = "grid_images.safetensors"
    for recipe_name in cfg.recipes:
        recipe = victim_recipe(recipe_name, epochs=cfg.victim_epochs,
                               width=cfg.victim_width if recipe_name == "paper" else None)
        for name, data in protected_sets.items():
            progress("stage", {"stage": f"victim {recipe_name} on {name}"})
            start = time.perf_counter()
            run = train_victim(data, test, recipe, device=cfg.device, seed=cfg.seed, progress=progress)
            results["victims"].append({"method": name, "recipe_name": recipe_name,
                                       "seconds": time.perf_counter() - start, **run})
            write_results({**results, **provenance(cfg.device)}, out_dir / "results.json")  # partial, kept
    results.update(provenance(cfg.device))
    write_results(results, out_dir / "results.json")
    return results, protected_sets, train
