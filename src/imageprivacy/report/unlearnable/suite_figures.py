"""The paper-suite figures, drawn like the paper's: Fig. 4a-b bars, Fig. 4c-d curves, Fig. 5 polylines.

Only cells with a finished row are drawn; the tables beside each figure say which are "not run".
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")        # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from imageprivacy.report.figures import STYLE, save_figure  # noqa: E402
from imageprivacy.report.unlearnable.suite_tables import cells_of, row_of  # noqa: E402

# Suite method names -> the colours figures.py gives the same protections elsewhere; checked in
# this order, so a mixed-data series ("4: ConfounderGAN p + natural") takes its protection's colour.
_METHOD_STYLE = (("confoundergan", STYLE["confoundergan"]), ("emn", ("tab:green", "--")),
                 ("cwn", STYLE["classwise"]), ("cwp", ("tab:purple", "-.")), ("random", STYLE["random"]),
                 ("natural", STYLE["clean"]))
_DASHES = ("-", "--", ":", "-.")


class _Styles:
    """Colour by method; a second series of one method in the same panel gets another dash."""

    def __init__(self):
        self.used: set[tuple[str | None, str]] = set()

    def __call__(self, series: str) -> tuple[str | None, str]:
        color, dash = next((s for name, s in _METHOD_STYLE if name in series.lower()), (None, "-"))
        if color is not None:
            for candidate in (dash, *_DASHES):
                if (color, candidate) not in self.used:
                    dash = candidate
                    break
        self.used.add((color, dash))
        return color, dash


def _finish(ax, title: str, xlabel: str, ylabel: str, chance: float | None) -> None:
    if chance is not None:
        ax.axhline(chance, color="lightgrey", lw=0.8, label="chance")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, ylim=(0, 1))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))   # outside: never over the data


def in_distribution_bars(results: dict, path: Path, chance: float | None = None) -> Path:
    """Fig. 4a-b: final test accuracy after training on 100 % protected data; the dot is the best epoch."""
    cells = cells_of(results, "in-distribution")
    fig, ax = plt.subplots(figsize=(1.0 * len(cells) + 2.5, 3.4))
    styles = _Styles()
    for i, cell in enumerate(cells):
        row = row_of(results, cell)
        color, _ = styles(cell["series"])
        if row is None or row.get("final_test_acc") is None:
            ax.text(i, 0.02, "not run", rotation=90, ha="center", va="bottom", fontsize=8)
            continue
        ax.bar(i, row["final_test_acc"], color=color or "tab:orange", alpha=0.8)
        if row.get("best_test_acc") is not None:
            ax.plot(i, row["best_test_acc"], "k.", ms=6)
        top = max(row["final_test_acc"], row.get("best_test_acc") or 0)     # label above the best-epoch dot
        ax.text(i, top + 0.02, f"{100 * row['final_test_acc']:.1f}", ha="center", fontsize=7)
    ax.set_xticks(range(len(cells)), [c["series"] for c in cells], rotation=30, ha="right", fontsize=8)
    _finish(ax, f"{results['config'].get('data', '')}: 100 % protected training data", "",
            "clean test accuracy (final; dot: best)", chance)
    return save_figure(fig, path)


def mixed_polylines(results: dict, path: Path, chance: float | None = None) -> Path:
    """Fig. 5: final test accuracy against the protected share p, one polyline per training mix."""
    cells = cells_of(results, "mixed")
    fig, ax = plt.subplots(figsize=(8.4, 3.8))
    styles = _Styles()
    for series in dict.fromkeys(c["series"] for c in cells):
        points = sorted((100 * c["x"], row_of(results, c)["final_test_acc"]) for c in cells
                        if c["series"] == series and (row_of(results, c) or {}).get("final_test_acc") is not None)
        if points:
            color, dash = styles(series)
            ax.plot(*zip(*points), dash, color=color, marker="o", ms=3, label=series)
    _finish(ax, f"{results['config'].get('data', '')}: mixed training data", "protected share p (%)",
            "final clean test accuracy", chance)
    return save_figure(fig, path)


def curves_90(results: dict, path: Path, chance: float | None = None) -> Path:
    """Fig. 4c-d: clean test accuracy per epoch at one protected share p, one curve per training set."""
    cells = cells_of(results, "curves-90")
    fig, ax = plt.subplots(figsize=(8.4, 3.8))
    styles = _Styles()
    for cell in cells:
        row = row_of(results, cell)
        if row and row.get("test_acc"):
            color, dash = styles(cell["series"])
            ax.plot(range(1, len(row["test_acc"]) + 1), row["test_acc"], dash, color=color, marker="o", ms=3,
                    label=cell["series"])
    shares = ", ".join(dict.fromkeys(f"{100 * c['x']:g} %" for c in cells))
    _finish(ax, f"{results['config'].get('data', '')}: test accuracy curves, p = {shares}", "epoch",
            "clean test accuracy", chance)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return save_figure(fig, path)


FIGURES = {"in-distribution": in_distribution_bars, "mixed": mixed_polylines, "curves-90": curves_90}
