"""Markdown tables of a paper-suite results.json (experiments/unlearnable/paper_suite.py): cells, rows,
protected sets.

A cell names its victim run by `key`; several cells may share one run, and a cell whose run has
not finished (an interrupted suite) has no row: it is shown as "not run", never dropped. A table
position with no cell at all is not part of the experiment and is shown as "-".
"""
from __future__ import annotations

import math

from imageprivacy.report.unlearnable.paper_numbers import PaperTable

NOT_RUN = "not run"
# Paper order; an experiment name this list does not know still gets a section, after these.
EXPERIMENT_ORDER = ("in-distribution", "mixed", "curves-90", "transfer", "augment", "defences")
AXIS = {"in-distribution": "method × victim", "mixed": "series × p (protected share)", "curves-90": "series × p",
        "transfer": "method × victim architecture", "augment": "method × victim augmentation",
        "defences": "method × defence"}


def experiments_in(results: dict) -> list[str]:
    found = list(dict.fromkeys(c["experiment"] for c in results.get("cells", [])))
    return sorted(found, key=lambda e: (EXPERIMENT_ORDER.index(e) if e in EXPERIMENT_ORDER else len(EXPERIMENT_ORDER)))


def cells_of(results: dict, experiment: str) -> list[dict]:
    return [c for c in results.get("cells", []) if c["experiment"] == experiment]


def row_of(results: dict, cell: dict) -> dict | None:
    return results.get("rows", {}).get(cell["key"])


def chance_level(results: dict) -> float | None:
    """1 / classes when the results say how many classes there are (the suite does not record it yet)."""
    rows = results.get("rows", {}).values()
    found = [results.get("num_classes"), results.get("config", {}).get("num_classes"),
             *(r.get("num_classes") for r in rows)]
    classes = next((n for n in found if n), None)
    return 1 / classes if classes else None


def pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def x_label(x) -> str:
    # Float x values are protected shares p; strings are architectures, augmentations, defences.
    return f"{100 * x:g} %" if isinstance(x, (int, float)) else str(x)


def final_best(row: dict | None) -> str:
    """Final test accuracy with the best epoch's in brackets: early stopping is an attack too."""
    if row is None:
        return NOT_RUN
    if row.get("final_test_acc") is None:
        return "no test accuracy"
    return f"{pct(row['final_test_acc'])} ({pct(row.get('best_test_acc'))})"


def _axes(cells: list[dict]) -> tuple[list[str], list]:
    series = list(dict.fromkeys(c["series"] for c in cells))
    xs = list(dict.fromkeys(c["x"] for c in cells))
    return series, xs


def grid_table(results: dict, experiment: str, extra_rows: list[tuple[str, dict]] = ()) -> list[str]:
    """Rows = series, columns = x, entries "final (best)" accuracy in %; extra rows are (label, x -> text)."""
    cells = cells_of(results, experiment)
    series, xs = _axes(cells)
    by_position = {(c["series"], str(c["x"])): c for c in cells}
    lines = ["| " + " | ".join([AXIS.get(experiment, "series × x"), *map(x_label, xs)]) + " |",
             "|" + "---|" * (len(xs) + 1)]
    for s in series:
        entries = [final_best(row_of(results, by_position[(s, str(x))])) if (s, str(x)) in by_position else "-"
                   for x in xs]
        lines.append(f"| {s} | " + " | ".join(entries) + " |")
    for label, values in extra_rows:
        lines.append(f"| {label} | " + " | ".join(values.get(str(x), "-") for x in xs) + " |")
    return lines


def paper_rows(tables: tuple[PaperTable, ...]) -> list[tuple[str, dict]]:
    """The paper's numbers as extra grid rows, each labelled with its data set and 'not our setting'."""
    rows = []
    for t in tables:
        for series, values in t.values.items():
            label = f"*{series}: paper, {t.dataset}, not our setting*"
            rows.append((label, {x: f"*{v:.1f}*" for x, v in values.items()}))
    return rows


def paper_sources(tables: tuple[PaperTable, ...]) -> list[str]:
    lines = []
    for t in tables:
        renamed = ", ".join(f"{label} = {x}" for x, label in t.columns.items() if label.lower() != x.lower())
        lines.append(f"- {t.source}" + (f" (paper columns: {renamed})" if renamed else ""))
    return lines


def _db(x) -> str:
    return "-" if x is None else ("inf" if math.isinf(x) else f"{x:.2f}")


def _seconds(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def protected_table(results: dict) -> list[str]:
    """One line per protected training set the suite fitted (method @ the fraction it was fitted on)."""
    lines = ["| method | fit fraction | PSNR mean (dB) | PSNR min (dB) | SSIM mean | L-inf (8-bit levels) | "
             "unchanged images | label consistency (%) | fit (s) | protect (s) | fit record |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, rec in results.get("protected", {}).items():
        method, _, fraction = key.partition("@")
        q = rec.get("quality", {})
        ssim = q.get("ssim_mean")
        lines.append(f"| {method} | {fraction or '-'} | {_db(q.get('psnr_mean_db'))} | {_db(q.get('psnr_min_db'))} | "
                     f"{'-' if ssim is None else f'{ssim:.3f}'} | {q.get('linf_max_levels', '-')} | "
                     f"{q.get('unchanged_images', '-')} | {pct(rec.get('label_consistency'))} | "
                     f"{_seconds(rec.get('fit_seconds'))} | {_seconds(rec.get('protect_seconds'))} | "
                     f"{fit_record_text(rec.get('fit_record'))} |")
    return lines


def fit_record_text(record: dict | None) -> str:
    """EMN's bi-level fit: whether it reached its stop accuracy tells a reader how converged the noise is."""
    if not record or "rounds" not in record:
        return "-"
    stop = "stop reached" if record.get("reached_stop") else "stop not reached"
    return f"{record['rounds']} rounds, surrogate train acc. {pct(record.get('train_acc'))} %, {stop}"
