"""Checkpoints of trainable protections: safetensors weights + the config in the file's metadata.

The file alone rebuilds the protection (nanoGPT style). safetensors cannot run code on load, which
matters because users exchange generators: never unpickle a file someone sent you.
"""
from __future__ import annotations

from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from imageprivacy.errors import CheckpointError, NotFittedError
from imageprivacy.protections.base import PROTECTIONS, Protection

FORMAT = "imageprivacy/1"


def save_protection(protection: Protection, path: str | Path) -> Path:
    if not protection.fitted:
        raise NotFittedError(f"cannot save {type(protection).__name__} before fit")
    if not hasattr(protection, "checkpoint_state"):
        raise CheckpointError(f"{type(protection).__name__} has nothing to save in a checkpoint")
    tensors, meta = protection.checkpoint_state()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, "method": protection.name,
                                               "epsilon": repr(protection.epsilon), **meta})
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)            # atomic: a crash never leaves a half-written checkpoint
    return path


def load_protection(path: str | Path, device="cpu") -> Protection:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint: {err}") from err
    if meta.get("format") != FORMAT or meta.get("method") not in PROTECTIONS:
        raise CheckpointError(f"{path} is not an imageprivacy protection checkpoint "
                              f"(format={meta.get('format')!r}, method={meta.get('method')!r})")
    try:
        return PROTECTIONS[meta["method"]].from_checkpoint(tensors, meta, device=device)
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        raise CheckpointError(f"{path}: config and weights do not rebuild a "
                              f"{meta['method']} ({err})") from err
