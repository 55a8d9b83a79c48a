"""A staged experiment's run folder: its config.json, the keys its cached stages are stored under, and
the image rows its report draws.

DPF and DeepObfuscator runs both train in stages that are cached by the settings they depend on,
keep their config in RUN_DIR/config.json and their image grid in RUN_DIR/images.safetensors; this is
the one place that does any of it.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from imageprivacy.errors import CheckpointError
from imageprivacy.nets.weights_file import save_tensors

ROWS_KIND = "image-rows"          # the weights-file kind of an image grid (report/image_mosaic.py reads it)


def stage_key(config: dict, fields: tuple[str, ...], *extra: str, **more) -> str:
    """JSON of `fields` (+ `extra` fields and `more` values) of `config`: what a cached stage depends on."""
    return json.dumps({**{k: config[k] for k in (*fields, *extra)}, **more}, sort_keys=True)


def write_run_config(config: dict, run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))


def read_run_config(run_dir: Path, from_dict, what: str, train_command: str):
    """`from_dict` of RUN_DIR/config.json; CheckpointError naming `train_command` when it is missing or bad."""
    try:
        return from_dict(json.loads((Path(run_dir) / "config.json").read_text()))
    except (OSError, json.JSONDecodeError, TypeError) as err:
        raise CheckpointError(f"{run_dir} is not {what} run folder (no readable config.json: {err}); "
                              f"run `{train_command}` first") from err


def save_rows(rows: dict[str, torch.Tensor], path: Path) -> dict:
    """Named rows of [0, 1] images as uint8 in one safetensors file (the row order in its metadata).

    Experiments write this next to results.json, so a report can be redrawn without rerunning anything.
    """
    names = list(rows)
    tensors = {f"row{i:02d}": (rows[n].float().clamp(0, 1) * 255).round().to(torch.uint8).contiguous()
               for i, n in enumerate(names)}
    save_tensors(path, tensors, ROWS_KIND, {"rows": names})
    return {"file": path.name, "rows": names}
