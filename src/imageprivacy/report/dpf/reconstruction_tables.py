"""The reconstruction tables of a DPF report: raw and attacker-side scores, the content-free references on the
same images, the unseen reconstructors' training curves, and the privacy-utility curve."""
from __future__ import annotations

from pathlib import Path

from imageprivacy.report.figures import privacy_utility_figure, training_curves
from imageprivacy.report.markdown_table import decimal as _num
from imageprivacy.report.markdown_table import markdown_table as _table
from imageprivacy.report.markdown_table import percent as _pct

SCORE_HEADER = ["SSIM original (raw / attacker)", "SSIM poisoned raw", "SSIM poisoned attacker-side",
                "MS-SSIM poisoned attacker-side", "PSNR poisoned attacker-side", "L1 poisoned attacker-side"]


def _side(row: dict, metric: str, places: int = 4) -> str:
    side = row.get("attacker_side", {})
    variant = row.get("attacker_variant", {}).get(metric)
    value = _num(side.get(metric), places)
    return f"{value} ({variant})" if variant and variant != "raw" else value


def score_cells(row_original: dict | None, row_poisoned: dict) -> list[str]:
    first = "-" if row_original is None else (f"{_num(row_original['ssim'])} / "
                                              f"{_num(row_original['attacker_side']['ssim'])}")
    return [first, _num(row_poisoned["ssim"]), _side(row_poisoned, "ssim"), _side(row_poisoned, "ms_ssim"),
            _side(row_poisoned, "psnr_db", 2), _side(row_poisoned, "l1")]


def content_free_rows(refs: dict) -> list[list]:
    """Reconstructions that know nothing of the image, in italics: what an attacker gets for free."""
    return [[f"*{name} (content-free)*", "-", _num(v["ssim"]), _num(v["ssim"]), _num(v.get("ms_ssim")),
             _num(v.get("psnr_db"), 2), _num(v["l1"])] for name, v in refs.items()]


def reconstruction_table(results: dict) -> list[str]:
    rows = [[name, *score_cells(v["original"], v["poisoned"])] for name, v in results["unseen_reconstructors"].items()]
    rows += content_free_rows(results.get("content_free", {}))
    return _table(["reconstructor", *SCORE_HEADER], rows)


def training_section(results: dict, run_dir: Path) -> list[str]:
    """How long each unseen reconstructor trained, and its validation curve (it must have plateaued)."""
    trained = {n: v["training"] for n, v in results["unseen_reconstructors"].items() if v.get("training")}
    if not trained:
        return []
    rows = []
    for name, h in trained.items():
        stop = h.get("early_stopping", {})
        rows.append([name, stop.get("epochs_run", len(h.get("l1", []))), stop.get("best_epoch", "-"),
                     _num(stop.get("best")), "yes" if stop.get("stopped_early") else "**no** (cap reached)"])
    lines = ["", "## Unseen reconstructors: training until the validation L1 stops falling", "",
             f"Trained on Q-train less a held-out {_pct(results['config']['attack_val_fraction'])} % slice, at most "
             f"{results['config']['attack_epochs']} epochs, patience {results['config']['attack_patience']}; the "
             "weights of the best epoch are kept.", ""]
    lines += _table(["reconstructor", "epochs run", "best epoch", "best validation L1", "plateaued"], rows)
    curves = {n: h["val_l1"] for n, h in trained.items() if h.get("val_l1")}
    if curves:
        training_curves(curves, run_dir / "dpf_attacker_curves.png", "validation L1 (held-out Q-train)")
        lines += ["", "![validation curves](dpf_attacker_curves.png)"]
    return lines


def privacy_utility_section(results: dict, run_dir: Path) -> list[str]:
    curve = results.get("privacy_utility")
    if not curve:
        return []
    measure = curve["measures"][0]
    lines = ["", "## Privacy-utility curve", "",
             f"{curve['task']} against the {measure['label']} (every attacker trained afresh on the public classes); "
             f"floor: {measure['floor_name']} {_num(measure['floor'])}. Knobs: "
             + "; ".join(f"{k}: {v}" for k, v in curve["knob"].items()) + ".", ""]
    rows = [[name, "-" if p["knob"] is None else f"{p['knob']:g}", _pct(p["task_accuracy"]),
             _num(p["leakage"]["ssim"]), p["strongest"]] for name, points in curve["series"].items() for p in points]
    lines += _table(["series", "knob", "top-1 %", "attacker-side SSIM", "strongest attacker"], rows)
    privacy_utility_figure(curve, run_dir / "dpf_privacy_utility.png")
    return lines + ["", "![privacy-utility](dpf_privacy_utility.png)"]
