"""Markdown report of an epsilon sweep, generated from its results.json only."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from imageprivacy.report.figures import STYLE, save_figure  # noqa: E402
from imageprivacy.report.markdown_table import config_block, write_markdown  # noqa: E402


def sweep_table(rows: list[dict]) -> list[str]:
    lines = ["| eps | method | victim recipe | best test acc (%) | final test acc (%) | PSNR (dB) | SSIM | label consistency |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["recipe_name"], r["epsilon"], r["method"])):
        q = r["quality"] or {}
        eps = "-" if r["method"] == "clean" else f"{r['epsilon'] * 255:g}/255"
        lc = r.get("label_consistency")
        psnr = f"{q['psnr_mean_db']:.1f}" if "psnr_mean_db" in q else "-"      # clean data: no noise to score
        ssim = f"{q['ssim_mean']:.3f}" if "ssim_mean" in q else "-"
        lines.append(f"| {eps} | {r['method']} | {r['recipe_name']} | {100 * r['best_test_acc']:.1f} | "
                     f"{100 * r['final_test_acc']:.1f} | {psnr} | {ssim} | {'-' if lc is None else f'{100 * lc:.1f}'} |")
    return lines


def sweep_figure(rows: list[dict], path: Path) -> Path:
    recipes = list(dict.fromkeys(r["recipe_name"] for r in rows))
    fig, axes = plt.subplots(1, len(recipes), figsize=(4.2 * len(recipes), 3.4), squeeze=False)
    for ax, recipe in zip(axes[0], recipes):
        mine = [r for r in rows if r["recipe_name"] == recipe]
        for method in dict.fromkeys(r["method"] for r in mine):
            pts = sorted((r["epsilon"] * 255, r["final_test_acc"]) for r in mine if r["method"] == method)
            color, line = STYLE.get(method, (None, "-"))
            if method == "clean":
                ax.axhline(pts[0][1], color=color, ls=line, label="clean")
            else:
                ax.plot(*zip(*pts), line, color=color, marker="o", label=method)
        ax.set(title=f"victim: {recipe}", xlabel="epsilon (/255)", ylabel="final clean test accuracy", ylim=(0, 1))
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def write_sweep_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    cfg = results["config"]
    sweep_figure(results["rows"], run_dir / "sweep.png")
    lines = [f"# Epsilon sweep on {cfg['data']}", "",
             f"Generated from `results.json` (finished {results['finished_utc']}, commit {results['git_commit']}, "
             f"device {results['machine']['device']}). Training set {results['train_size']} images, clean test set "
             f"{results['test_size']}; victims trained {cfg['victim_epochs']} epochs (paper recipe: ResNet-18 "
             f"width {cfg['victim_width']}); generator {cfg['generator_epochs']} epochs; seed {cfg['seed']}.", "",
             "![sweep](sweep.png)", "", *sweep_table(results["rows"]), "",
             *config_block(cfg)]
    return write_markdown(lines, run_dir)
