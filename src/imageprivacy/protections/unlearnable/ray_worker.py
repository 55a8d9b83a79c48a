"""One worker of `imageprivacy protect --engine ray`: the model loaded once, then the files of each batch protected.

Ray Data creates one `ProtectWorker` per worker (an actor holding one CPU, or one GPU) and calls it
with batches of rows (ray_engine.py). A row is one input: its OutputJob, its label and the record the
driver's manifest holds for its output, pickled. The batch is a shard of the job (file_shard.py): the
worker writes temporary PNGs beside their targets and returns one pickled Outcome per input, then the
exception that stopped the batch, if one did. It never writes the manifest and never moves an output
in place; the driver does both (folder_job.py).
"""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

from imageprivacy.protections.unlearnable.file_shard import ShardSettings, protect_rows


class ProtectWorker:
    """Callable class for Dataset.map_batches: `__init__` runs once per worker, `__call__` once per batch."""

    def __init__(self, checkpoint, device: str, cpus: int, root: str, identity: dict, overwrite: bool,
                 use_labels: bool, batch_size: int, png_compression: int):
        import ray
        import torch

        from imageprivacy.protections.checkpoint import load_protection

        if device == "cpu":
            torch.set_num_threads(max(1, cpus))       # the CPUs Ray gave this worker, not the machine's
        # The checkpoint's bytes come through Ray's object store (a reference the driver holds for the
        # job), so the file need not sit on a shared folder.
        handle, name = tempfile.mkstemp(suffix=".safetensors")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(ray.get(checkpoint))
            self.protection = load_protection(name, device=device)
        finally:
            os.unlink(name)
        self.root, self.identity, self.overwrite = Path(root), identity, overwrite
        self.use_labels, self.batch_size, self.threads = use_labels, batch_size, max(1, cpus)
        self.png_compression = png_compression   # the driver's: both engines write the same bytes

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [pickle.loads(blob) for blob in batch["job"]]
        settings = ShardSettings(self.root, self.identity, self.overwrite, self.use_labels, self.batch_size,
                                 self.png_compression, self.threads)
        outcomes = protect_rows(self.protection, settings, rows)
        return {"outcome": np.array([pickle.dumps(item) for item in outcomes], dtype=object)}
