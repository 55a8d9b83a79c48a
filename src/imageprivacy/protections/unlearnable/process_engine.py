"""The local engine on every core: a `protect` job's inputs sharded over forked worker processes.

Why processes: in one process, reader and writer threads barely overlap the forward pass, because
examining, batching, encoding and writing a file hold the GIL for most of its ~1 ms of user time
(32x32 PNGs, 2-core AMD EPYC; docs/results.md, issue 18). Worker processes each have their own GIL:
through the command line, 2 workers against 1 process: 755-804 against 577-633 img/s writing to this
machine's disk, 1,041-1,083 against 650-816 on tmpfs; 1024x1024 photos, whose heavy parts already
leave the GIL, 0.09-0.11 s either way (benchmarks/results/protect_files_processes*.json).

- This process owns the job (folder_job.py): it plans, locks OUTPUT, takes every Outcome and commits;
  the workers run shards of it (file_shard.py), write temporary PNGs beside their targets and return
  their Outcomes, as Ray's workers do (ray_worker.py). The rules of output_writer.py therefore hold
  here too: a killed job leaves at most hidden temporary files, which the next run removes.
- Byte for byte the local engine's outputs: a batch holds other images than in one process, which
  changes no output, because the package's protections compute each image independently of its
  batch-mates (tests/unlearnable/test_protect_processes.py, and the Ray engine's test).
- Forked, not spawned: a worker inherits the loaded protection and starts in milliseconds, where a
  spawned one imports torch again (seconds). Fork is used only on Linux (macOS's system frameworks are
  not fork-safe, Windows has none) and only on a CPU (a forked process cannot use its parent's CUDA
  context); elsewhere the job runs in this process, as before. Each worker computes with one torch thread.
- Shards are taken in order, at most two per worker in flight, so memory stays what each worker's
  pipeline bounds (file_pipeline.py) times the workers, and outcomes reach the manifest in input order.
- A worker's error (OUTPUT cannot be written) comes back after the outcomes it finished; no new shard
  starts, the shards in flight finish and are taken, then the error goes on; so does Ctrl+C, which
  the workers leave to this process. A worker that dies (killed, out of memory) stops the job with a
  WorkerError; a re-run resumes. Workers die with the job's process, even when it is killed with
  kill -9 (die_with; experiments/side_by_side.py's lanes use it too).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import torch

from imageprivacy.errors import ConfigurationError, WorkerError
from imageprivacy.protections.base import Protection
from imageprivacy.protections.unlearnable.file_pipeline import c_library
from imageprivacy.protections.unlearnable.file_shard import ShardSettings, protect_rows
from imageprivacy.protections.unlearnable.folder_job import FolderJob

SHARDS_PER_WORKER = 8     # shards per worker over the job: the last ones end close together
MAX_SHARD_FILES = 128     # inputs per shard at most: the progress bar moves, little work is lost on a kill
_INHERITED: dict = {}     # a forked worker's protection and settings (_start_worker)
PR_SET_PDEATHSIG = 1      # linux/prctl.h


def can_fork(protection: Protection) -> bool:
    """Worker processes are possible: Linux, and the protection computes on the CPU (module docstring)."""
    return sys.platform.startswith("linux") and torch.device(protection.device).type == "cpu"


def default_processes(protection: Protection) -> int:
    """One worker per core where the job can fork (can_fork); 1, this process alone, elsewhere."""
    return (os.cpu_count() or 1) if can_fork(protection) else 1


def check_processes(protection: Protection, processes: int) -> None:
    if processes < 1:
        raise ConfigurationError(f"processes (--workers) must be >= 1, got {processes}")
    if processes > 1 and not can_fork(protection):
        raise ConfigurationError("several local worker processes need Linux and --device cpu; pass --workers 1, "
                                 "or --engine ray for several GPUs")


def shard_size(inputs: int, processes: int) -> int:
    return max(1, min(MAX_SHARD_FILES, -(-inputs // (processes * SHARDS_PER_WORKER))))


def die_with(owner: int) -> None:
    """This process is killed when the job's process dies (Linux's PR_SET_PDEATHSIG), even by kill -9: an
    orphan would go on writing temporary files into OUTPUT while a re-run clears them."""
    libc = c_library()
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != owner:          # it died before the line above ran
        os._exit(1)


def _start_worker(protection: Protection, settings: ShardSettings, owner: int) -> None:
    die_with(owner)
    torch.set_num_threads(1)       # one core each: more threads per worker would fight the others for it
    # Ctrl+C is this process's to handle: it stops new shards and lets the ones in flight finish and be taken.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _INHERITED.update(protection=protection, settings=settings)


def _protect_shard(rows: list[tuple]) -> list:
    return protect_rows(_INHERITED["protection"], _INHERITED["settings"], rows)


def run_in_processes(job: FolderJob, protection: Protection, settings: ShardSettings, processes: int) -> None:
    """Every input of `job` protected by `processes` forked workers; each Outcome taken here, in order."""
    rows = [(plan_job, label, job.manifest.outputs.get(plan_job.target_rel))
            for plan_job, label in zip(job.plan.jobs, job.labels)]
    size = shard_size(len(rows), processes)
    shards = iter([rows[start:start + size] for start in range(0, len(rows), size)])
    in_flight: deque[Future] = deque()
    error: BaseException | None = None
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                             initializer=_start_worker, initargs=(protection, settings, os.getpid())) as pool:
        try:
            while True:
                while error is None and len(in_flight) < 2 * processes and (shard := next(shards, None)):
                    in_flight.append(pool.submit(_protect_shard, shard))
                if not in_flight:
                    break
                error = _take(job, in_flight.popleft(), error)
        except BaseException:          # Ctrl+C here: the shards already done are still taken
            for future in in_flight:
                future.cancel()
            for future in in_flight:
                if not future.cancelled():
                    try:
                        _take(job, future, None)
                    except BaseException:
                        pass           # the first error is the one that goes on
            raise
    if error is not None:
        raise error


def _take(job: FolderJob, future: Future, error: BaseException | None) -> BaseException | None:
    """Take one shard's outcomes; the first error of the job so far (the shard's own, or `error`)."""
    try:
        items = future.result()
    except BrokenProcessPool as err:
        raise WorkerError(f"a protecting worker process died ({err}); the outputs committed so far are kept: run "
                          "the same command again to resume, with --workers 1 to protect in one process") from err
    for item in items:
        if isinstance(item, BaseException):
            error = error or item
        else:
            job.take(item)
    return error
