"""Markdown report of a DeepObfuscator run (Tables 3-4, section 4.2, Fig. 4, trade-off), from results.json only."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from imageprivacy.metrics.attacker_side import STRETCH_TEXT  # noqa: E402
from imageprivacy.report.figures import save_figure  # noqa: E402
from imageprivacy.report.image_mosaic import draw_saved_rows  # noqa: E402
from imageprivacy.report.markdown_table import (config_block, decimal, markdown_table, percent,  # noqa: E402
                                               write_markdown)
from imageprivacy.report.obfuscator.attacker_tables import attacker_training_section, privacy_utility_section  # noqa
from imageprivacy.report.obfuscator.targets import check_targets  # noqa: E402

MET = {True: "yes", False: "**no**", None: "-"}


def _setting_rows(results: dict) -> list[list]:
    rows, guess = [], results["guessing"]["given_task"]
    for name, s in results["settings"].items():
        rec = s["reconstructors"]
        worst = max(rec, key=lambda r: rec[r]["attacker_side"]["ms_ssim"]) if rec else None
        rows.append([name, s["kind"], s.get("lambda_attribute", "-"), s.get("lambda_reconstruction", "-"),
                     percent(s["task_accuracy"]["accuracy"]), percent(s["private_attacker"]["accuracy"]),
                     f"{100 * (s['private_attacker']['accuracy'] - guess):+.2f}",
                     f"{decimal(rec[worst]['ms_ssim'])} / {decimal(rec[worst]['attacker_side']['ms_ssim'])} ({worst})"
                     if worst else "-",
                     decimal(sum(r["psnr_db"] for r in rec.values()) / len(rec), 2) if rec else "-"])
    return rows


def _reconstructor_rows(settings: dict, names: list[str]) -> list[list]:
    rows = []
    for rec in sorted({r for n in names for r in settings[n]["reconstructors"]}):
        row = [rec]
        for n in names:
            r = settings[n]["reconstructors"].get(rec)
            row.append(f"{decimal(r['ms_ssim'])} / {decimal(r['attacker_side']['ms_ssim'])} / "
                       f"{decimal(r['attacker_side']['psnr_db'], 2)}" if r else "-")
        rows.append(row)
    return rows


def _content_free_rows(results: dict, columns: int) -> list[list]:
    """The references, in italics, with the same MS-SSIM / PSNR in every setting's column (one set of images)."""
    return [[f"*{name} (content-free)*",
             *[f"{decimal(v.get('ms_ssim'))} / {decimal(v.get('ms_ssim'))} / {decimal(v.get('psnr_db'), 2)}"] * columns]
            for name, v in results.get("content_free", {}).items()]


def curve_figure(results: dict, path: Path) -> Path:
    """MS-SSIM of the mirror attacker, private and task accuracy against lambda1 = lambda2."""
    points = [(c["lambda"], results["settings"][c["setting"]]) for c in results["curve"]]
    lams = [lam for lam, _ in points]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ms = [s["reconstructors"].get("mirror", {}).get("ms_ssim") for _, s in points]
    ax.plot(lams, ms, "o-", label="MS-SSIM (fresh mirror AR)")
    ax.plot(lams, [s["private_attacker"]["accuracy"] for _, s in points], "s-", label="private acc. (fresh attacker)")
    ax.plot(lams, [s["task_accuracy"]["accuracy"] for _, s in points], "^-", label="task accuracy")
    ax.axhline(results["guessing"]["given_task"], color="grey", ls=":", lw=1, label="guessing given the task")
    ax.set(xscale="log" if min(lams, default=1) > 0 else "linear", xlabel="lambda1 = lambda2", ylim=(0, 1.02))
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def _header(results: dict) -> list[str]:
    cfg, p = results["config"], results["ms_ssim_parameters"]
    return [f"# DeepObfuscator on {cfg['data']}", "",
            f"Generated from `results.json` (finished {results.get('finished_utc')}, commit "
            f"{results.get('git_commit')}, device {results.get('machine', {}).get('device')}). Task "
            f"`{results['task']['spec']}` ({len(results['task']['names'])} values), private "
            f"`{results['private']['spec']}` ({len(results['private']['names'])} values); sizes {results['sizes']}; "
            f"features {results['feature_shape']}; width {cfg['width']}, depth {cfg['depth']}, hidden {cfg['hidden']}, "
            f"bottleneck {cfg.get('bottleneck', 0) or 'none'}, code {cfg.get('code', 0) or 'none'}; "
            f"epochs pretraining {cfg['pretrain_epochs']}, adversaries {cfg['adversary_epochs']}, Algorithm 1 "
            f"{cfg['adversarial_epochs']}, attackers {cfg['attack_epochs']}; AC defence term "
            f"`{cfg.get('attribute_loss', 'negative-ce')}`; adversaries {cfg.get('adversaries', 1)} (reset every "
            f"{cfg.get('reset_every', 0)} epochs, 0 = never), noise at O's output std {cfg.get('feature_noise', 0.0)}; "
            f"seed {cfg['seed']}.", "",
            *(["**Release only** (`obfuscator evaluate --release-only`): the released features attacked by every "
               "reconstructor; the baselines, ablations and curves were not run, so no table below compares "
               "against them.", ""] if results.get("release_only") else []),
            f"MS-SSIM: torchmetrics, {p['scales']} scales, Gaussian window {p['kernel_size']}, sigma {p['sigma']}, "
            f"betas {p['betas']}, data_range {p['data_range']}, terms clamped at 0 ({p['normalize']}); mean of "
            "per-image values, as is PSNR (dB)."]


def _targets(results: dict) -> list[str]:
    guess, floor = results["guessing"], results["reconstruction_floor"]["task_mean_image"]["ms_ssim"]
    lines = ["", "## Targets (issue 16)", ""]
    lines += markdown_table(["target", "measured", "met"],
                            [[c.target, c.measured, MET[c.met]] for c in check_targets(results)])
    lines += ["", f"Guessing the private label from the task label alone: {percent(guess['given_task'])} % "
                  f"(majority {percent(guess['majority'])} %, uniform {percent(guess['uniform'])} %). Drawing the mean "
                  f"attacker image of the right task value scores MS-SSIM {decimal(floor)} without any features: "
                  "the reconstruction counterpart of guessing. Reconstruction scores are given raw and attacker-side "
                  "(the best of the raw output, its negative, an intensity remap a x + b fitted on the attacker's "
                  f"own held-out images and {STRETCH_TEXT})."]
    return lines


def _reconstruction_tables(results: dict) -> list[str]:
    s = results["settings"]
    lines = ["", "## Every setting (attackers retrained from scratch on the frozen features; test part)", ""]
    lines += markdown_table(["setting", "kind", "lambda1", "lambda2", "task acc. %", "private acc. %",
                             "vs guessing", "highest MS-SSIM raw / attacker-side", "mean PSNR raw"],
                            _setting_rows(results))
    base = [n for n in ("deepobfuscator", "no_adversarial", "noise") if n in s]
    lines += ["", "## Tables 3 and 4: MS-SSIM raw / attacker-side / PSNR attacker-side of each retrained "
                  "reconstructor", ""]
    lines += markdown_table(["reconstructor", *base],
                            _reconstructor_rows(s, base) + _content_free_rows(results, len(base)))
    sim = s["deepobfuscator"].get("simulated_adversaries")
    if sim:
        lines += ["", f"The AR and AC of Algorithm 1 itself (what the authors' code reported) score MS-SSIM "
                      f"{decimal(sim['reconstructor']['ms_ssim'])} and private accuracy "
                      f"{percent(sim['attribute']['accuracy'])} %; the fresh attackers above are the measure."]
    if "noise_baseline" in results:
        n = results["noise_baseline"]
        lines += ["", f"Noise baseline: std {n['std']} is the smallest on the grid whose noisy images score MS-SSIM "
                      f"<= {n['threshold']} against the raw ones (measured {decimal(n['ms_ssim'])}"
                      + ("" if n["met"] else ", threshold never reached on the grid") + ")."]
    return lines


def _side_row(label, setting: dict) -> list:
    mirror = setting["reconstructors"].get("mirror", {})
    return [label, percent(setting["private_attacker"]["accuracy"]),
            f"{decimal(mirror.get('ms_ssim'))} / {decimal(mirror.get('attacker_side', {}).get('ms_ssim'))}",
            percent(setting["task_accuracy"]["accuracy"])]


def _ablation_and_curve(results: dict) -> list[str]:
    s, lines = results["settings"], []
    ablations = [n for n in ("defend_ar_only", "defend_ac_only") if n in s]
    if ablations:
        lines += ["", "## Section 4.2: defending against one attack only", ""]
        lines += markdown_table(["setting", "private acc. %", "mirror MS-SSIM raw / attacker-side", "task acc. %"],
                                [_side_row(n, s[n]) for n in ["deepobfuscator", *ablations]])
    if results.get("curve"):
        lines += ["", "## Trade-off over lambda1 = lambda2", ""]
        lines += markdown_table(["lambda (setting)", "private acc. %", "mirror MS-SSIM raw / attacker-side",
                                                  "task acc. %"],
                                [_side_row(f"{c['lambda']} ({c['setting']})", s[c["setting"]])
                                 for c in results["curve"]])
    return lines


def obfuscator_markdown(results: dict) -> list[str]:
    return _header(results) + _targets(results) + _reconstruction_tables(results) + _ablation_and_curve(results)


def write_obfuscator_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    lines = obfuscator_markdown(results) + attacker_training_section(results, run_dir)
    lines += privacy_utility_section(results, run_dir)
    if len(results.get("curve", [])) > 1:
        curve_figure(results, run_dir / "obfuscator_tradeoff.png")
        lines += ["", "![trade-off](obfuscator_tradeoff.png)"]
    if (run_dir / "images.safetensors").is_file():
        draw_saved_rows(run_dir / "images.safetensors", run_dir / "obfuscator_images.png")
        lines += ["", "## Fig. 4: raw test images, then each retrained reconstructor per setting", "",
                  "![reconstructions](obfuscator_images.png)"]
    lines += ["", *config_block(results["config"])]
    return write_markdown(lines, run_dir)
