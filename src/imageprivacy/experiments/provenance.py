"""What every results file records besides its figures: versions, machine, time, git commit."""
from __future__ import annotations

import datetime
import functools
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

from imageprivacy.training.accelerator import autocast_dtype


def versions() -> dict:
    names = ["imageprivacy", "torch", "kornia", "torchmetrics", "safetensors", "numpy", "pillow"]
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def training_precision(device) -> str:
    """What the training loops ran in on `device` (training/accelerator.py chooses)."""
    dtype = autocast_dtype(device)
    return "float32" if dtype is None else f"{str(dtype).removeprefix('torch.')} autocast"


def machine(device) -> dict:
    device = torch.device(device)
    info = {"device": str(device), "platform": platform.platform(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "training_precision": training_precision(device)}
    if device.type == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The checkout's commit when this process first asked (at import, below), "+changes" when its tracked
    files differed from it: a run that lasts an hour is the code it started with, whatever is committed
    meanwhile."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=5, cwd=here).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                 text=True, timeout=5, cwd=here).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+changes" if changed else "")) or None


git_commit()


def provenance(device) -> dict:
    return {"versions": versions(), "machine": machine(device), "git_commit": git_commit(),
            "finished_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def load_results(run_dir: str | Path) -> dict:
    """RUN_DIR/results.json, as `write_results` wrote it."""
    return json.loads((Path(run_dir) / "results.json").read_text())


def write_results(results: dict, path: str | Path) -> Path:
    """Write JSON atomically (a half-written results file would be taken for a finished run)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=str))
    tmp.replace(path)
    return path
