"""The sweep: victim test accuracy vs epsilon for each protection under each victim recipe.

One row per (epsilon, method, recipe), with the protected images' PSNR and SSIM. Rows are written
to results.json as they finish and a re-run with the same config skips the rows already there, so
a long CPU sweep survives an interruption.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.experiments.unlearnable.demo import load_split
from imageprivacy.experiments.unlearnable.protection_factory import fit_and_protect
from imageprivacy.metrics.image_quality import protection_quality


@dataclass
class SweepConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    train_size: int | None = 5_000
    test_size: int | None = None
    epsilons: tuple[float, ...] = (8 / 255, 16 / 255, 32 / 255)
    methods: tuple[str, ...] = ("clean", "random", "classwise", "confoundergan")
    recipes: tuple[str, ...] = ("paper", "small-cnn", "linear")
    victim_epochs: int = 5
    victim_width: int | None = 16
    generator_epochs: int | None = None   # None: train-generator's default (ConfounderGANConfig), as every command
    f_epochs: int | None = None
    device: str = "cpu"
    seed: int = 0


def _options(name: str, cfg: SweepConfig) -> dict:
    if name == "confoundergan":
        chosen = {"epochs": cfg.generator_epochs, "f_epochs": cfg.f_epochs}
        return {k: v for k, v in chosen.items() if v is not None}
    return {}


def run_sweep(cfg: SweepConfig, out_dir: str | Path, progress=None) -> dict:
    progress = progress or (lambda event, values: None)
    out = Path(out_dir) / "results.json"
    config = asdict(cfg)
    previous = json.loads(out.read_text()) if out.exists() else {}
    rows = previous.get("rows", []) if previous.get("config") == json.loads(json.dumps(config)) else []
    done = {(r["epsilon"], r["method"], r["recipe_name"]) for r in rows}
    train, test = load_split(cfg)
    results = {"experiment": "epsilon-sweep", "config": config, "train_size": len(train),
               "test_size": len(test), "rows": rows}
    for eps in cfg.epsilons:
        for name in cfg.methods:
            todo = [r for r in cfg.recipes if (eps, name, r) not in done]
            if not todo or (name == "clean" and eps != cfg.epsilons[0]):
                continue        # clean data does not depend on epsilon: its victims run once
            progress("stage", {"stage": f"{name} at {eps * 255:g}/255"})
            method, data, fit_seconds = fit_and_protect(name, train, eps, cfg.device, cfg.seed, progress,
                                                        **_options(name, cfg))
            quality = protection_quality(train.images, data.images) if method else None
            consistency = method.label_consistency(train) if method else None
            for recipe_name in todo:
                recipe = victim_recipe(recipe_name, epochs=cfg.victim_epochs,
                                       width=cfg.victim_width if recipe_name == "paper" else None)
                progress("stage", {"stage": f"victim {recipe_name} on {name} at {eps * 255:g}/255"})
                start = time.perf_counter()
                run = train_victim(data, test, recipe, device=cfg.device, seed=cfg.seed)
                rows.append({"epsilon": eps, "method": name, "recipe_name": recipe_name, "quality": quality,
                             "label_consistency": consistency, "fit_seconds": fit_seconds,
                             "seconds": time.perf_counter() - start, **run})
                write_results({**results, **provenance(cfg.device)}, out)
    results.update(provenance(cfg.device))
    write_results(results, out)
    return results

