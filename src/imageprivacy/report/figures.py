"""Figures drawn from results files: accuracy curves and the original / protected / noise grid."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")        # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

STYLE = {"clean": ("black", "-"), "random": ("grey", ":"), "classwise": ("tab:blue", "--"),
         "confoundergan": ("tab:red", "-")}


def save_figure(fig, path: Path) -> Path:
    """Write a finished figure as PNG and free it (pyplot keeps every open figure alive)."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def accuracy_curves(victims: list[dict], path: Path, chance: float | None = None) -> Path:
    """One panel per victim recipe: clean test accuracy per epoch for each training set."""
    recipes = list(dict.fromkeys(v["recipe_name"] for v in victims))
    fig, axes = plt.subplots(1, len(recipes), figsize=(4.2 * len(recipes), 3.4), squeeze=False)
    for ax, recipe in zip(axes[0], recipes):
        for v in (v for v in victims if v["recipe_name"] == recipe):
            color, line = STYLE.get(v["method"], (None, "-"))
            epochs = range(1, len(v["test_acc"]) + 1)
            ax.plot(epochs, v["test_acc"], line, color=color, marker="o", ms=3, label=v["method"])
        if chance is not None:
            ax.axhline(chance, color="lightgrey", lw=0.8)
        ax.set(title=f"victim: {recipe}", xlabel="epoch", ylabel="clean test accuracy", ylim=(0, 1))
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def protection_grid(images: dict[str, torch.Tensor], epsilon: float, path: Path, columns: int = 8) -> Path:
    """Rows: original, then each protection and its noise scaled from [-eps, eps] to [0, 255] (paper Fig. 6)."""
    original = images["original"][:columns]
    rows = [("original", original)]
    for name, protected in images.items():
        if name in ("original", "clean"):
            continue
        protected = protected[:columns]
        noise = (protected.float() - original.float()) / (2 * epsilon * 255) + 0.5
        rows += [(name, protected), (f"{name} noise (x{0.5 / epsilon:.0f})", (noise.clamp(0, 1) * 255).round())]
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.2 * columns, 1.3 * len(rows)), squeeze=False)
    for r, (label, batch) in enumerate(rows):
        for c in range(columns):
            ax = axes[r][c]
            ax.axis("off")
            if c >= len(batch):
                continue
            img = (batch[c].float() / 255.0).numpy()
            if img.shape[0] == 1:
                ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(img.transpose(1, 2, 0).clip(0, 1))
        axes[r][0].set_title(label, fontsize=7, loc="left")
    return save_figure(fig, path)


def training_curves(curves: dict[str, list[float]], path: Path, ylabel: str, title: str = "") -> Path:
    """One line per attacker: its validation score per epoch (the early-stopping curve)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for name, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=name)
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def privacy_utility_figure(curve: dict, path: Path) -> Path:
    """Task accuracy against each leakage measure of `curve` (experiments' privacy_utility), one panel each.

    Every series is a line over its knob (labelled at each point); a one-point series ("no defence") a star;
    each measure's floor (content-free reference or guessing level) a dotted vertical line.
    """
    measures = curve["measures"]
    fig, axes = plt.subplots(1, len(measures), figsize=(5.0 * len(measures), 3.8), squeeze=False)
    for ax, measure in zip(axes[0], measures):
        for name, points in curve["series"].items():
            points = [p for p in points if p["leakage"].get(measure["key"]) is not None]
            if not points:
                continue
            xs = [p["leakage"][measure["key"]] for p in points]
            ys = [p["task_accuracy"] for p in points]
            ax.plot(xs, ys, "*" if len(points) == 1 else "o-", ms=10 if len(points) == 1 else 4, label=name)
            for x, y, p in zip(xs, ys, points):
                if p["knob"] is not None:
                    ax.annotate(f"{p['knob']:g}", (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
        if measure.get("floor") is not None:
            ax.axvline(measure["floor"], color="grey", ls=":", lw=1, label=measure.get("floor_name", "floor"))
        ax.set(xlabel=measure["label"], ylabel=curve["task"])
        ax.legend(fontsize=7)
    return save_figure(fig, path)
