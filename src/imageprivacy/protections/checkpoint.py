"""Checkpoints of protections: one safetensors file in the package's one format (nets/weights_file.py).

The file alone rebuilds the protection (nanoGPT style): its metadata holds the method's name, its
constructor options, what fitting found (classes, fit record) and the class names. safetensors
cannot run code on load, which matters because users exchange generators: never unpickle a file
someone sent you.
"""
from __future__ import annotations

from pathlib import Path

from imageprivacy.errors import CheckpointError, NotFittedError
from imageprivacy.nets.weights_file import read_tensors, save_tensors
from imageprivacy.protections.base import PROTECTIONS, Protection

KIND = "protection"


def save_protection(protection: Protection, path: str | Path) -> Path:
    """Write the fitted protection to `path` atomically (a crash never leaves a half-written checkpoint)."""
    if not protection.fitted:
        raise NotFittedError(f"cannot save {type(protection).__name__} before fit")
    tensors, meta = protection.checkpoint_state()
    return save_tensors(path, tensors, KIND, {"method": protection.name, **meta})


def load_protection(path: str | Path, device="cpu") -> Protection:
    """The protection a checkpoint holds, fitted, on `device`; CheckpointError for any file that is not one."""
    tensors, config = read_tensors(path, KIND)
    method = config.get("method")
    if method not in PROTECTIONS:
        raise CheckpointError(f"{path} holds an unknown protection method {method!r}; known: "
                              f"{', '.join(sorted(PROTECTIONS))}")
    try:
        return PROTECTIONS[method].from_checkpoint(tensors, config, device=device)
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        raise CheckpointError(f"{path}: config and weights do not rebuild a {method} ({err})") from err
