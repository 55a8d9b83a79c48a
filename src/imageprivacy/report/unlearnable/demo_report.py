"""Markdown report of a ConfounderGAN demo run, generated from its results.json only."""
from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file

from imageprivacy.report.figures import accuracy_curves, protection_grid
from imageprivacy.report.markdown_table import config_block, write_markdown


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


DATA_NAMES = {"confoundergan": "ConfounderGAN, fitted on these images (in-distribution)",
              "confoundergan-new": "ConfounderGAN, fitted on other images (new images)"}


def victim_table(victims: list[dict]) -> list[str]:
    lines = ["| victim recipe | training data | final test acc (%) | best test acc (%) | best epoch | "
             "fits its training images (%) |", "|---|---|---|---|---|---|"]
    for v in victims:
        lines.append(f"| {v['recipe_name']} ({v['recipe']['arch']}, width {v['recipe']['width']}, "
                     f"{len(v['test_acc'])} epochs) | {DATA_NAMES.get(v['method'], v['method'])} | "
                     f"{_pct(v['final_test_acc'])} | {_pct(v['best_test_acc'])} | {v['best_epoch']} | "
                     f"{_pct(v.get('train_fit_acc'))} |")
    return lines


def quality_table(protections: dict) -> list[str]:
    lines = ["| protection | mean PSNR (dB) | min PSNR (dB) | mean SSIM | max change (8-bit levels) | fit (s) | label consistency |",
             "|---|---|---|---|---|---|---|"]
    for name, p in protections.items():
        q = p["quality"]
        lines.append(f"| {name} | {q['psnr_mean_db']:.2f} | {q['psnr_min_db']:.2f} | {q['ssim_mean']:.3f} | "
                     f"{q['linf_max_levels']} | {p['fit_seconds']:.0f} | {_pct(p.get('label_consistency'))} |")
    return lines


def _lanes(results: dict) -> str:
    lanes = results.get("lanes", 1)
    if lanes <= 1:
        return ""
    threads = results.get("threads_per_lane")
    each = f", {threads} torch thread(s) each" if threads else ""
    return f", with the methods run {lanes} at a time in forked processes{each}"


def write_demo_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    cfg = results["config"]
    eps = cfg["epsilon"]
    classes = results.get("num_classes")
    chance = 1 / classes if classes else None
    accuracy_curves(results["victims"], run_dir / "accuracy_curves.png", chance)
    grid = load_file(str(run_dir / results["grid_images"]))
    protection_grid({"original": grid["clean"], **grid}, eps, run_dir / "protection_grid.png")
    m = results["machine"]
    lines = [
        f"# ConfounderGAN on {cfg['data']}",
        "",
        f"Generated from `results.json` (finished {results['finished_utc']}, commit {results['git_commit']}, "
        f"device {m['device']}{' ' + m['gpu'] if 'gpu' in m else ''}, {m['cpu_count']} CPUs, training in "
        f"{m.get('training_precision', 'float32')}).",
        f"Training set: {results['train_size']} images; clean test set: {results['test_size']} images; "
        f"epsilon = {eps * 255:g}/255; seed {cfg['seed']}; the whole job took "
        f"{results.get('seconds', float('nan')) / 60:.1f} minutes{_lanes(results)}.",
        "",
        "## What an unauthorized trainer learns",
        "",
        "Each row is a fresh victim trained on the named training data and tested on the clean test set. "
        "Lower is better protection" + (f"; chance is {100 * chance:.0f} %" if chance else "") + ". "
        "Early stopping at the best epoch is an attack, so the best "
        "epoch is reported beside the final one. The last column is the victim's accuracy on its own training "
        "images (eval mode, no augmentation): a victim that fits them has learnt what they offer. "
        "Each row is one victim seed: at a few thousand images the final accuracy of a victim on protected data "
        "moves by tens of points with the victim's seed alone (docs/results.md), so compare rows with care and "
        "re-run with --seed to see the spread.",
        "",
        *victim_table(results["victims"]),
        "",
        "![accuracy curves](accuracy_curves.png)",
        "",
        "## What the protected images look like",
        "",
        *quality_table(results["protections"]),
        "",
        "Label consistency: share of the victims' training images whose noise pattern is their class's "
        "majority pattern (class-wise noise is 100 % by construction). ConfounderGAN protects from the image "
        "alone here (the label-free path).",
        "",
        "![original, protected and noise](protection_grid.png)",
        "",
        "## Configuration",
        "",
        *config_block(cfg),
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
    ]
    return write_markdown(lines, run_dir)
