"""Independent parts of one experiment run side by side, one forked process ("lane") per part at a time.

Why: the victims of the demo are small nets (ResNet-18 at width 16 on 28x28 images) whose steps do not
split well over threads. On the 2-core AMD EPYC of docs/results.md, one process with 2 threads made 9.07
bf16 training steps per second, two processes with 1 thread each 12.04 together, 1.33x (`python
benchmarks/training_lanes.py`, benchmarks/results/training_lanes.json); the demo went from 13.5 to 10.1
minutes (docs/results/demo-lanes/).

- Forked, as protect's worker processes are (protections/unlearnable/process_engine.py): on Linux and on a
  CPU only, outside torchrun. Elsewhere (a GPU, macOS, Windows, a torchrun rank), or with one lane, the
  parts run in this process, one after the other.
- A lane computes with cores // lanes torch threads, leaves Ctrl+C to this process and dies with it.
- Each part's result comes back when it ends (pickled by multiprocessing: objects this job made, never a
  file someone sent). A part must not depend on the global random state another part left: seed it.
  Users: the demo (its methods), the bench (its (seed, method) parts), the suite (its victims, after every
  protected set was made in this process).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

import torch

from imageprivacy.errors import ConfigurationError, WorkerError
from imageprivacy.protections.unlearnable.process_engine import die_with
from imageprivacy.training import distributed

_INHERITED: dict = {}     # the part function a forked lane runs (side_by_side)


def can_fork(device: str) -> bool:
    """Linux, a CPU, and not a rank of a torchrun job (its ranks already share the cores, and a fork would not
    be part of the process group)."""
    return (sys.platform.startswith("linux") and torch.device(device).type == "cpu"
            and not distributed.world().distributed)


def default_lanes(device: str, parts: int) -> int:
    """One lane per core, at most one per part, where lanes can fork (can_fork); else 1."""
    return max(1, min(parts, os.cpu_count() or 1)) if can_fork(device) else 1


def lane_threads(lanes: int) -> int:
    """torch threads each lane computes with (with one lane: this process's own)."""
    return max(1, (os.cpu_count() or 1) // lanes) if lanes > 1 else torch.get_num_threads()


def check_lanes(device: str, lanes: int) -> None:
    if lanes < 1:
        raise ConfigurationError(f"lanes must be >= 1 (1 runs every part in this process, one after the other), got {lanes}")
    if lanes > 1 and not can_fork(device):
        raise ConfigurationError(f"several lanes need Linux and a CPU (device {device}), outside torchrun: "
                                 "pass --lanes 1")


def lanes_for(device: str, parts: int, asked: int | None) -> int:
    """The lanes a run uses: `asked` when given (checked), else default_lanes."""
    lanes = default_lanes(device, parts) if asked is None else asked
    check_lanes(device, lanes)
    return lanes


def _start_lane(owner: int, threads: int) -> None:
    die_with(owner)
    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_part(name: str) -> tuple[str, Any]:
    return name, _INHERITED["part"](name)


def side_by_side(part: Callable[[str], Any], names: Iterable[str], lanes: int) -> Iterator[tuple[str, Any]]:
    """(name, part(name)) for every name, in the order the parts end; `lanes` of them at once.

    Names are started in the order given: put the longest first, so the last to end starts early.
    """
    names = list(names)
    if lanes <= 1 or len(names) <= 1:
        for name in names:
            yield name, part(name)
        return
    _INHERITED["part"] = part
    pool = ProcessPoolExecutor(lanes, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_lane, initargs=(os.getpid(), lane_threads(lanes)))
    finished = False
    try:
        pending = {pool.submit(_run_part, name) for name in names}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
        finished = True
    except BrokenProcessPool as err:
        raise WorkerError(f"a lane of this experiment died ({err}); what it wrote so far is kept; "
                          "run it again with --lanes 1 to run every part in this process") from err
    finally:
        if not finished:   # an error, Ctrl+C or a caller that stopped early: parts still running are not waited for
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=finished, cancel_futures=True)
        _INHERITED.clear()
