"""Protecting many files on one machine: reader threads decode ahead, the protection runs, writer threads encode.

Pillow releases the GIL while it decodes and encodes (libjpeg, zlib) and torch while it computes, so
with a pool of readers examining and decoding the next inputs (file_steps.examine) and a pool of
writers encoding the protected ones (file_steps.write_protected), the protection, on the calling
thread, seldom waits for files. What one thread did is kept:
- inputs are examined and handed to the batcher in INPUT's order, so batches are the ones a single
  thread forms (protect_batches.py) and every output is the same byte for byte;
- every Outcome reaches `take` on the calling thread (the manifest has one owner, folder_job.py):
  skipped and resumed inputs when they are examined, written ones in the order they were protected;
- memory stays bounded: reads run at most `read_ahead` inputs ahead, and none starts while the decoded
  images waiting hold AHEAD_VALUES values; protected images waiting for a writer hold at most
  BEHIND_VALUES (the batcher bounds the rest, PENDING_VALUES_LIMIT);
- torch keeps one core fewer than it had (at least one) while the pipeline runs: the readers and
  writers need a core, and OpenMP threads that find their core taken spin instead of computing (on a
  busy 2-core machine, 2 intra-op threads protected 32x32 images ~5x slower than one; tests/conftest.py
  saw the same in training);
- large buffers go back to the system when freed (glibc: a fixed mmap threshold, MMAP_THRESHOLD):
  with the default, the threshold grows to 32 MB after the first large free and each thread's arena
  keeps what it freed; an 8000x8000 photo then peaked at 1.47 GB instead of 1.14
  (benchmarks/protect_memory.py). The threshold is 12 MB, above a batch of 64 32x32 images' largest
  activation (8 MB), and the heap keeps up to TRIM_THRESHOLD free at its top (a fixed mmap threshold
  leaves glibc's trim threshold at 128 KB): with 1 MB and 128 KB, every batch's buffers were mapped or
  grown afresh and faulted in page by page, 509k page faults for 2,000 32x32 files against 63k
  (docs/results.md, issue 18; docs/results/protect-profile-processes/);
- on an error (a bug in the protection, OUTPUT that cannot be written, Ctrl+C) no new read starts and
  the writes already queued finish and reach `take` before the error goes on, so whatever was
  protected is kept and a re-run resumes after it.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import torch

from imageprivacy.data.png_output import DEFAULT_COMPRESS_LEVEL
from imageprivacy.protections.base import Protection
from imageprivacy.protections.unlearnable.file_steps import Decoded, Outcome, decoded_values, examine, write_protected
from imageprivacy.protections.unlearnable.output_manifest import Manifest
from imageprivacy.protections.unlearnable.output_plan import OutputJob
from imageprivacy.protections.unlearnable.protect_batches import Batcher, Waiting

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3    # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 12 << 20   # bytes: above it glibc maps each allocation and unmaps it when freed
TRIM_THRESHOLD = 64 << 20   # bytes: free memory at the top of the heap kept for the next batch, not returned
AHEAD_VALUES = 1 << 26      # decoded values read ahead of the protection (64 MB as uint8)
BEHIND_VALUES = 1 << 26     # protected values waiting for a writer


def default_threads() -> int:
    """Readers (and as many writers) per job: one per core, at most 4 (beyond that the GIL-held parts bind)."""
    return max(1, min(4, os.cpu_count() or 1))


@functools.cache
def c_library() -> ctypes.CDLL | None:
    """This process's C library, found once (find_library runs ldconfig), or None where it is not found."""
    libc_name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(libc_name) if libc_name else None
    except OSError:
        return None


def _large_buffers_back_to_the_system() -> None:
    """mallopt(M_MMAP_THRESHOLD) where the C library is glibc (module docstring); elsewhere nothing."""
    libc = c_library()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


@contextlib.contextmanager
def _one_core_less_for_torch():
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, min(threads, (os.cpu_count() or 1) - 1)))
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class FilePipeline:
    def __init__(self, protection: Protection, batch_size: int, manifest: Manifest, identity: dict,
                 overwrite: bool, use_labels: bool, readers: int | None = None, writers: int | None = None,
                 png_compression: int = DEFAULT_COMPRESS_LEVEL):
        self.protection, self.batch_size, self.manifest = protection, batch_size, manifest
        self.identity, self.overwrite, self.use_labels = identity, overwrite, use_labels
        self.png_compression = png_compression   # zlib level of every output (data/png_output.py)
        self.readers, self.writers = readers or default_threads(), writers or default_threads()
        self.read_ahead = max(2 * self.readers, 2 * batch_size)
        self.seconds = 0.0                       # wall time of `run`: reading, protecting and writing
        self._lock = threading.Lock()
        self._ahead_values = self._behind_values = 0
        self._behind: deque[tuple[Future, int]] = deque()

    def run(self, jobs: list[OutputJob], labels: list, take: Callable[[Outcome], None]) -> None:
        """Examine, protect and write every job; each one's Outcome goes to `take` (module docstring)."""
        started = time.perf_counter()
        _large_buffers_back_to_the_system()
        with _one_core_less_for_torch(), ThreadPoolExecutor(self.readers, "imageprivacy-read") as reads, \
                ThreadPoolExecutor(self.writers, "imageprivacy-write") as writes:
            def hand_to_writer(waiting: Waiting) -> None:
                # The batcher drops its references after this call: the writer gets its own.
                values = waiting.image.pixels.numel()
                future = writes.submit(write_protected, waiting.item, list(waiting.parts), self.protection)
                self._behind.append((future, values))
                self._behind_values += values
                self._take_written(take)
            batcher = Batcher(self.protection, self.batch_size, hand_to_writer, self.use_labels)
            examined = self._examined_in_order(jobs, labels, reads)
            try:
                for item in examined:
                    if isinstance(item, Decoded):
                        batcher.add(item, item.image, item.label)
                    else:
                        take(item)
                    self._take_written(take)
                batcher.flush_all()
                self._take_written(take, every=True)
            except BaseException:
                examined.close()             # no new read starts
                self._finish_started_writes(take)
                raise
            finally:
                self.seconds = time.perf_counter() - started

    def _examine(self, job: OutputJob, label) -> Outcome | Decoded:
        item = examine(job, label, self.manifest, self.identity, self.overwrite, self.png_compression)
        with self._lock:
            self._ahead_values += decoded_values(item)
        return item

    def _examined_in_order(self, jobs, labels, reads: ThreadPoolExecutor):
        """Every job examined, in order, with up to `read_ahead` of them examined ahead on the readers."""
        queued = iter(zip(jobs, labels))
        pending: deque[Future] = deque()
        try:
            while True:
                while len(pending) < self.read_ahead and self._ahead_values < AHEAD_VALUES:
                    job = next(queued, None)
                    if job is None:
                        break
                    pending.append(reads.submit(self._examine, *job))
                if not pending:
                    return
                item = pending.popleft().result()
                with self._lock:
                    self._ahead_values -= decoded_values(item)
                yield item
        finally:                     # stopped by an error: reads not yet started never start
            for future in pending:
                future.cancel()

    def _take_written(self, take, every: bool = False) -> None:
        """Hand finished writes to `take`, in order; wait for them while too many values wait (or `every`)."""
        while self._behind and (every or self._behind_values > BEHIND_VALUES or self._behind[0][0].done()):
            future, values = self._behind.popleft()
            self._behind_values -= values
            take(future.result())

    def _finish_started_writes(self, take) -> None:
        """After an error: each write already queued finishes; what it wrote is taken, or removed if that fails."""
        while self._behind:
            future, _ = self._behind.popleft()
            try:
                outcome = future.result()
            except BaseException:
                continue                     # the first error is the one that goes on
            try:
                take(outcome)
            except BaseException:
                outcome.tmp.unlink(missing_ok=True)
