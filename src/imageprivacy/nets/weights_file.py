"""The package's one file format for saved models: tensors in safetensors, plus a `kind` and the JSON config
that rebuilds them in the file's metadata.

Networks (DPF stages and release, DeepObfuscator's modules, reconstructors) and protection checkpoints
(protections/checkpoint.py) are all written here, so a file alone says what to build. safetensors
cannot run code when loaded (pickle can), which matters for files that are shared, such as a DPF
release or a generator.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from imageprivacy.errors import CheckpointError

FORMAT = "imageprivacy-module/1"


def module_tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as contiguous CPU tensors (what safetensors accepts)."""
    return {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], kind: str, config: dict) -> Path:
    """Write tensors with `kind` and `config` (JSON) in the metadata; atomic, so no half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, "kind": kind, "config": json.dumps(config)})
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path


def save_module(path: str | Path, module: nn.Module, kind: str, config: dict) -> Path:
    return save_tensors(path, module_tensors(module), kind, config)


def read_tensors(path: str | Path, kind: str) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, config) of a file written by save_tensors for `kind`; CheckpointError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no {kind} file at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable safetensors file: {err}") from err
    if meta.get("format") != FORMAT or meta.get("kind") != kind:
        raise CheckpointError(f"{path} is not a {kind} file (format={meta.get('format')!r}, "
                              f"kind={meta.get('kind')!r})")
    try:
        config = json.loads(meta["config"])
    except (KeyError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} has no readable config in its metadata") from err
    return tensors, config


def load_state(module: nn.Module, tensors: dict[str, torch.Tensor], path: str | Path) -> nn.Module:
    """Load a state dict strictly; a config/weights mismatch becomes a CheckpointError naming the file."""
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: the weights do not fit the network its config describes ({err})") from err
    return module
