"""The fresh attackers' training (they must have plateaued) and the privacy-utility curve of a DeepObfuscator
report, from results.json only."""
from __future__ import annotations

from pathlib import Path

from imageprivacy.report.figures import privacy_utility_figure, training_curves
from imageprivacy.report.markdown_table import decimal, markdown_table, percent


def _stopping(history: dict) -> list:
    stop = history.get("early_stopping", {})
    if not stop:
        return ["-", "-", "-"]
    return [stop["epochs_run"], stop["best_epoch"], "yes" if stop["stopped_early"] else "**no** (cap reached)"]


def attacker_training_section(results: dict, run_dir: Path) -> list[str]:
    """Epochs run, best epoch and plateau of every fresh attacker; curves of the main setting's attackers."""
    cfg, settings = results["config"], results["settings"]
    rows = []
    for name, s in settings.items():
        history = s["private_attacker"]["history"]
        rows.append([name, "private attribute", *_stopping(history), percent(max(history.get("val_acc") or [None]))])
        for rec, r in s["reconstructors"].items():
            training = r.get("training", {})
            best = min(training.get("val_loss") or [None]) if training.get("val_loss") else None
            rows.append([name, rec, *_stopping(training), decimal(None if best is None else 1 - best)])
    lines = ["", "## Fresh attackers: trained until their validation score stops improving", "",
             f"Every attacker trains on the attacker part less a held-out {percent(cfg.get('attack_val_fraction'))} % "
             f"slice, at most {cfg['attack_epochs']} epochs, patience {cfg.get('attack_patience', '-')}, and keeps "
             "its best epoch. Best validation score: accuracy % (private attribute) or MS-SSIM (reconstructors).", ""]
    lines += markdown_table(["setting", "attacker", "epochs run", "best epoch", "plateaued", "best validation"], rows)
    main = settings.get("deepobfuscator")
    if main and main["private_attacker"]["history"].get("val_acc"):
        accuracy = {name: s["private_attacker"]["history"]["val_acc"] for name, s in settings.items()
                    if s["private_attacker"]["history"].get("val_acc")}
        training_curves(accuracy, run_dir / "obfuscator_attacker_accuracy.png", "validation private accuracy",
                        "fresh private-attribute attackers")
        lines += ["", "![attribute attackers](obfuscator_attacker_accuracy.png)"]
        losses = {rec: r["training"]["val_loss"] for rec, r in main["reconstructors"].items()
                  if r.get("training", {}).get("val_loss")}
        if losses:
            training_curves(losses, run_dir / "obfuscator_reconstructor_curves.png", "validation 1 - MS-SSIM",
                            "fresh reconstructors (deepobfuscator)")
            lines += ["", "![reconstructors](obfuscator_reconstructor_curves.png)"]
    return lines


def privacy_utility_section(results: dict, run_dir: Path) -> list[str]:
    curve = results.get("privacy_utility")
    if not curve or not any(curve["series"].values()):
        return []
    lines = ["", "## Privacy-utility curve (fresh attackers)", "",
             "Knobs: " + "; ".join(f"{k}: {v}" for k, v in curve["knob"].items()) + ". Floors: "
             + "; ".join(f"{m['floor_name']} {decimal(m['floor'])}" for m in curve["measures"]) + ".", ""]
    rows = [[name, "-" if p["knob"] is None else f"{p['knob']:g}", percent(p["task_accuracy"]),
             percent(p["leakage"]["private_accuracy"]), decimal(p["leakage"]["ms_ssim"])]
            for name, points in curve["series"].items() for p in points]
    lines += markdown_table(["series", "knob", "task acc. %", "private acc. %", "attacker-side MS-SSIM"], rows)
    privacy_utility_figure(curve, run_dir / "obfuscator_privacy_utility.png")
    return lines + ["", "![privacy-utility](obfuscator_privacy_utility.png)"]
