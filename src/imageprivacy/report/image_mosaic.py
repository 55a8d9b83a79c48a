"""Rows of images drawn as one mosaic: one imshow for the whole grid instead of one axis per image.

A run with many settings has 20+ rows of 8 images; one matplotlib axis per image costs ~25 ms each
(seconds per report), a single mosaic a few milliseconds. Gray and colour rows may be mixed: gray
images are shown as gray colour images.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from imageprivacy.experiments.run_folder import ROWS_KIND  # noqa: E402
from imageprivacy.nets.weights_file import read_tensors  # noqa: E402

GAP = 2          # pixels of white between tiles
LABEL = 10       # pixels of white above each row for its name


def mosaic(rows: list[tuple[str, torch.Tensor]]) -> torch.Tensor:
    """(H, W, 3) float image of every row of (N, C, h, w) [0, 1] tiles, labels space left above each row."""
    h, w = rows[0][1].shape[2:]
    columns = max(len(batch) for _, batch in rows)
    canvas = torch.ones(len(rows) * (h + LABEL + GAP), columns * (w + GAP), 3)
    for r, (_, batch) in enumerate(rows):
        top = r * (h + LABEL + GAP) + LABEL
        for c, tile in enumerate(batch.float().clamp(0, 1)):
            canvas[top:top + h, c * (w + GAP):c * (w + GAP) + w] = tile.expand(3, -1, -1).permute(1, 2, 0)
    return canvas


def draw_mosaic(rows: list[tuple[str, torch.Tensor]], path: Path) -> Path:
    """The mosaic of `rows` with each row's name written above it, as a PNG."""
    canvas = mosaic(rows)
    scale = 0.04                                   # inches per pixel: 28-pixel tiles ~1.1 inch
    fig = plt.figure(figsize=(max(3.0, canvas.shape[1] * scale), canvas.shape[0] * scale))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(canvas.numpy(), interpolation="nearest")
    ax.axis("off")
    h = rows[0][1].shape[2]
    for r, (name, _) in enumerate(rows):
        ax.text(0, r * (h + LABEL + GAP) + LABEL - 2, name, fontsize=6, va="bottom")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_saved_rows(saved: Path, path: Path) -> Path:
    """The mosaic PNG of a file written by `save_rows` (experiments/run_folder.py)."""
    tensors, config = read_tensors(saved, ROWS_KIND)
    return draw_mosaic([(name, tensors[f"row{i:02d}"].float() / 255.0) for i, name in enumerate(config["rows"])],
                       path)
