"""The issue's target runs on the full Fashion-MNIST training set (60k), victims >= 10 epochs.

    python -m imageprivacy.experiments.unlearnable.full_scale_targets --out runs/targets [--device cuda]

Each generator is fitted on exactly the images it protects in-distribution (the paper's setting):
- "confoundergan/RECIPE": a generator fitted on the victims' training set (all 60k, or `train_size`)
  protects that set, from the images alone (the label-free path);
- "ood/paper": another generator, fitted on the first half of the training set, protects the second
  half, which it never saw; a paper-recipe victim trains on those protected images;
- "classwise/RECIPE": class-wise 4-pixel sign noise on the victims' set, the bar to clear.
Rows are written to results.json as they finish (the victims run side by side, one forked process per
core, experiments/side_by_side.py); a re-run with the same config skips finished rows and reloads the
generators it saved.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch

from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.experiments.side_by_side import default_lanes, side_by_side
from imageprivacy.experiments.unlearnable.protection_factory import CLASSWISE_BAR
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.protections import ClassWiseNoise, ConfounderGAN, load_protection, save_protection


@dataclass
class TargetConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    epsilon: float = 16 / 255
    train_size: int = 0            # 0 = the whole training set for the victims, else its first N images
    generator: dict = field(default_factory=dict)      # ConfounderGAN options; {} = train-generator's defaults
    victim_epochs: int = 10
    victim_width: int = 16
    runs: tuple[str, ...] = ("confoundergan/paper", "confoundergan/small-cnn", "ood/paper",
                             "classwise/paper", "classwise/small-cnn")
    device: str = "cpu"
    seed: int = 0


def finished_rows(previous: dict, config: dict) -> list[dict]:
    """The rows of an earlier results.json that still hold: same setup, whichever runs were asked for."""
    # A field added since that run counts at its default, which is what that run did.
    earlier = {**json.loads(json.dumps(asdict(TargetConfig()))), **previous.get("config", {})}
    same_setup = {k: v for k, v in earlier.items() if k != "runs"} == {k: v for k, v in config.items() if k != "runs"}
    return previous.get("rows", []) if same_setup else []


def _victim_row(run: str, cfg: TargetConfig, sets: dict, test) -> dict:
    """One METHOD/RECIPE run's victim, in a lane of its own: its row."""
    method, recipe_name = run.split("/")
    recipe = victim_recipe(recipe_name, epochs=cfg.victim_epochs,
                           width=cfg.victim_width if recipe_name == "paper" else None)
    t0 = time.perf_counter()
    row = train_victim(sets[method], test, recipe, device=cfg.device, seed=cfg.seed)
    return {"run": run, "seconds": time.perf_counter() - t0, **row}


def run_targets(cfg: TargetConfig, out_dir: Path, progress=print) -> dict:
    out = out_dir / "results.json"
    config = json.loads(json.dumps(asdict(cfg)))
    previous = json.loads(out.read_text()) if out.exists() else {}
    # Rows are per run: a later call asking for other runs keeps the finished ones of the same setup.
    rows = finished_rows(previous, config)
    done = {r["run"] for r in rows}
    full = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir)
    test = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir)
    half = len(full) // 2
    first, second = full.subset(torch.arange(half)), full.subset(torch.arange(half, len(full)))
    victims_see = cfg.train_size or len(full)
    train = full.subset(torch.arange(min(victims_see, len(full))))
    unseen = second.subset(torch.arange(min(victims_see, len(second))))
    results = {"experiment": "full-scale-targets", "config": config, "rows": rows,
               "generators": dict(previous.get("generators", {}))}
    wanted = {run.split("/")[0] for run in cfg.runs if run not in done}
    fitted_on = {"confoundergan": train, "ood": first.subset(torch.arange(min(victims_see, half)))}
    protects = {"confoundergan": train, "ood": unseen}
    sets = {}
    for name in ("confoundergan", "ood"):
        if name not in wanted:
            continue
        path = out_dir / f"{name}.safetensors"
        made_by = {k: config[k] for k in ("data", "epsilon", "train_size", "generator", "seed")}
        if path.exists() and results["generators"].get(name, {}).get("made_by") == made_by:
            gan = load_protection(path, device=cfg.device)       # resuming: the generator of earlier rows
        else:
            start = time.perf_counter()
            gan = ConfounderGAN(epsilon=cfg.epsilon, device=cfg.device, seed=cfg.seed, **cfg.generator)
            gan.fit(fitted_on[name], progress=progress)
            save_protection(gan, path)
            results["generators"][name] = {
                "repr": repr(gan), "fit_seconds": time.perf_counter() - start, "fit_images": len(fitted_on[name]),
                "fit_record": gan.fit_record, "checkpoint": str(path), "made_by": made_by,
                "label_consistency_fitted": gan.label_consistency(fitted_on[name]),
                "label_consistency_protected": gan.label_consistency(protects[name])}
            write_results({**results, **provenance(cfg.device)}, out)
        sets[name] = gan.protect_set(protects[name])
    classwise = ClassWiseNoise(epsilon=cfg.epsilon, seed=cfg.seed, **CLASSWISE_BAR).fit(train)
    sets["classwise"] = classwise.protect_set(train)
    originals = {"confoundergan": train, "ood": unseen, "classwise": train}
    results["quality"] = {k: protection_quality(originals[k].images, v.images) for k, v in sets.items()}
    sets["clean"] = train
    progress("quality", results["quality"])
    pending = [run for run in cfg.runs if run not in done]
    # The victims side by side (experiments/side_by_side.py), the paper recipe's (the longest) first.
    order = sorted(pending, key=lambda run: not run.endswith("/paper"))
    part = partial(_victim_row, cfg=cfg, sets=sets, test=test)
    for run, row in side_by_side(part, order, default_lanes(cfg.device, len(pending))):
        rows.append(row)
        rows.sort(key=lambda r: cfg.runs.index(r["run"]) if r["run"] in cfg.runs else -1)
        progress("victim", {"run": run, "test_acc": row["test_acc"]})
        write_results({**results, **provenance(cfg.device)}, out)
    results.update(provenance(cfg.device))
    write_results(results, out)
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/targets")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0, help="seeds the generators, the victims and class-wise noise")
    p.add_argument("--train-size", type=int, default=0, help="victims see the first N images (0 = all)")
    p.add_argument("--victim-epochs", type=int, default=10)
    p.add_argument("--victim-width", type=int, default=16)
    p.add_argument("--runs", default=",".join(TargetConfig.runs), help="comma list of METHOD/RECIPE")
    p.add_argument("--generator", default="{}", help="ConfounderGAN options, JSON ({} = train-generator's defaults)")
    args = p.parse_args()
    cfg = TargetConfig(train_size=args.train_size, generator=json.loads(args.generator),
                       victim_epochs=args.victim_epochs, victim_width=args.victim_width, device=args.device,
                       seed=args.seed, runs=tuple(args.runs.split(",")))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    run_targets(cfg, Path(args.out), progress=lambda e, v: print(e, json.dumps(v, default=str), flush=True))


if __name__ == "__main__":
    main()
