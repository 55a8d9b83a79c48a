"""What the protect manifest records of a source, the protection and the PNG level: what a re-run compares.

The protection's identity is its method, its epsilon, whether labels came from class folders (the
label-aware path writes other noise) and a hash of what it is: the sha256 of the checkpoint file it
was loaded from (what `imageprivacy protect` prints), or, for a protection built in code, the sha256
of its checkpoint state (tensors and config). A method with no checkpoint state (a test double) has
no such hash: then only method, epsilon and labels tell it apart.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from imageprivacy.errors import CheckpointError
from imageprivacy.protections.base import Protection


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def state_sha256(protection: Protection) -> str | None:
    """sha256 of the protection's checkpoint state (sorted tensors' bytes and its JSON meta); None if it has none."""
    try:
        tensors, meta = protection.checkpoint_state()
    except CheckpointError:
        return None
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode())
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def protection_identity(protection: Protection, checkpoint_sha256: str | None, labels_from_folders: bool) -> dict:
    return {"method": protection.name, "epsilon": protection.epsilon,
            "checkpoint_sha256": checkpoint_sha256 or state_sha256(protection),
            "labels_from_folders": bool(labels_from_folders)}


def source_record(rel: str, data: bytes, identity: dict, png_compression: int) -> dict:
    """The manifest's description of one input (its bytes as read), the protection applied to it and the zlib
    level its PNG is written at (another level: other bytes, the same pixels)."""
    return {"source": rel, "source_size": len(data), "source_sha256": hashlib.sha256(data).hexdigest(),
            "protection": identity, "png_compression": png_compression}
