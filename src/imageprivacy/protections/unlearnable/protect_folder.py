"""Protect one image file or a folder of them (the job behind `imageprivacy protect`).

The promise: an image is reported done only when its protected PNG is on disk and the manifest says
it came from this very input under this very protection; a file the job did not write is never
overwritten; every input that is not protected is listed with its reason.

- Where outputs go and what is refused before any work: output_plan.py (the folder walk that lists
  unreadable folders, dangling links, loops, FIFOs and unsupported formats: data/image_scan.py).
- What is kept of each image (size, mode, alpha, tRNS colour, 16 bits, the channel policy) and the
  budget check before anything is written: protected_pixels.py.
- Batching of same-shape images: protect_batches.py.
- Resume: output_manifest.py. An output counts as done only when its hash, its source's path, size
  and hash, and the protection's identity (`protection_identity`) match the manifest; an output the
  tool wrote under other terms is redone; any other existing file is refused (listed) unless
  `overwrite_outputs`.
- Writing: output_writer.py (temporary files, umask, commits that keep the manifest true after a kill).
- The steps of one file: file_steps.py; reader and writer threads around the protection, so decoding
  and encoding overlap it: file_pipeline.py; the job sharded over one forked worker process per core,
  each running that pipeline (the default on Linux with a CPU protection): process_engine.py; what
  every engine shares (the lock, the manifest, the summary): folder_job.py. The same job on a Ray
  cluster: ray_engine.py.

Labels. A method that chooses its noise by class (`needs_labels_to_protect`) takes each file's
label from its class folder, INPUT/<class>/... (see folder_labels.py).

Failures. A file that cannot be read or decoded is skipped with its reason and the job goes on;
frames past the first of an animation or multi-page file are not protected and listed as a
warning. An error of the protection itself or an OutputError (OUTPUT cannot be written) stops the
job: it is not about one file, and a re-run resumes.
"""
from __future__ import annotations

import time
from pathlib import Path

from imageprivacy.data.png_output import DEFAULT_COMPRESS_LEVEL
from imageprivacy.protections.base import Progress, Protection
from imageprivacy.protections.unlearnable.file_pipeline import FilePipeline
from imageprivacy.protections.unlearnable.file_shard import ShardSettings
from imageprivacy.protections.unlearnable.file_steps import FOREIGN_REASON
from imageprivacy.protections.unlearnable.folder_job import ProtectSummary, folder_job
from imageprivacy.protections.unlearnable.output_plan import plan_outputs
from imageprivacy.protections.unlearnable.process_engine import (check_processes, default_processes,
                                                                 run_in_processes, shard_size)

__all__ = ["FOREIGN_REASON", "ProtectSummary", "plan_outputs", "protect_path"]


def protect_path(protection: Protection, input_path: str | Path, output_path: str | Path, batch_size: int = 64,
                 progress: Progress | None = None, overwrite_outputs: bool = False,
                 use_folder_labels: bool = False, checkpoint_sha256: str | None = None,
                 threads: int | None = None, png_compression: int = DEFAULT_COMPRESS_LEVEL,
                 processes: int | None = None) -> ProtectSummary:
    """Protect INPUT (an image file or a folder, recursively) into lossless PNGs at OUTPUT (see module docstring).

    `use_folder_labels`: give the method each file's class from INPUT/<class>/ even when it can do
    without (ConfounderGAN's label-aware path: each class's own pattern instead of the selector's pick).
    `checkpoint_sha256`: the hash of the checkpoint file the protection was loaded from, recorded in
    the manifest (without it, a hash of the protection's state).
    `threads`: readers, and as many writers, around the protection (default: file_pipeline.default_threads;
    1 in each worker process).
    `png_compression`: zlib's level for the PNGs, 0..9 (default and measured trade-off: data/png_output.py);
    it is recorded, so outputs of another level are redone.
    `processes`: worker processes that share the inputs (process_engine.py; default: one per core on
    Linux with a CPU protection, else 1); 1 protects in this process.
    """
    if processes is not None:
        check_processes(protection, processes)
    with folder_job(protection, input_path, output_path, batch_size, progress, use_folder_labels,
                    checkpoint_sha256, png_compression) as job:
        workers = _workers(len(job.plan.jobs), processes or default_processes(protection))
        started = time.perf_counter()
        try:
            if workers > 1:
                settings = ShardSettings(job.manifest.root, job.summary.identity, overwrite_outputs, job.use_labels,
                                         batch_size, png_compression, threads or 1)
                run_in_processes(job, protection, settings, workers)
            else:
                FilePipeline(protection, batch_size, job.manifest, job.summary.identity, overwrite_outputs,
                             job.use_labels, readers=threads, writers=threads,
                             png_compression=png_compression).run(job.plan.jobs, job.labels, job.take)
        finally:
            job.summary.protect_seconds = time.perf_counter() - started
    return job.summary


def _workers(inputs: int, wanted: int) -> int:
    """Worker processes for `inputs`: no more than there are shards (one file runs in this process)."""
    return min(wanted, -(-inputs // shard_size(inputs, wanted))) if inputs else 1
