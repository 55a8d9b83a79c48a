"""One shard of a `protect` job, protected away from the process that owns the job: a Ray worker or a forked one.

A shard is a list of rows, one per input: its OutputJob, its label and the record the owner's manifest
holds for its output. The shard runs the local engine's own steps and threads (file_pipeline.py) with a
manifest that holds only those records: it reads INPUT, writes temporary PNGs beside their targets in
OUTPUT and returns one Outcome per input. It never writes the manifest and never moves an output in
place; the owner does both (folder_job.py), so the crash-safety rules stay with one process.

An error that stops the shard (OUTPUT cannot be written, a bug in the protection) comes back as a
last item holding the exception, after the outcomes of the inputs the shard had finished, so the owner
keeps those and raises it as the local engine would. Callers: ray_worker.py, process_engine.py.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

from imageprivacy.protections.base import Protection
from imageprivacy.protections.unlearnable.file_pipeline import FilePipeline
from imageprivacy.protections.unlearnable.output_manifest import Manifest


@dataclass(frozen=True)
class ShardSettings:
    """What every shard of one job shares: where it writes, under which protection identity, and how."""
    root: Path
    identity: dict
    overwrite: bool
    use_labels: bool
    batch_size: int
    png_compression: int       # the owner's: every engine writes the same bytes
    threads: int = 1           # readers, and as many writers, around the protection in this shard


def portable(err: Exception) -> Exception:
    """The exception itself when it survives pickling (typed errors keep their type), else a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:
        return RuntimeError(f"{type(err).__name__}: {err}")


def protect_rows(protection: Protection, settings: ShardSettings, rows: list[tuple]) -> list:
    """The Outcome of each (job, label, record) row, in the order they were finished, and a last exception
    if one stopped the shard (module docstring)."""
    manifest = Manifest(settings.root, {job.target_rel: record for job, _, record in rows if record is not None})
    pipeline = FilePipeline(protection, settings.batch_size, manifest, settings.identity, settings.overwrite,
                            settings.use_labels, readers=settings.threads, writers=settings.threads,
                            png_compression=settings.png_compression)
    outcomes: list = []
    try:
        pipeline.run([job for job, _, _ in rows], [label for _, label, _ in rows], outcomes.append)
    except Exception as err:
        outcomes.append(portable(err))
    return outcomes
