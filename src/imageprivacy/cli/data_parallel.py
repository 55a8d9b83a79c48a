"""The verbs that train (train-generator, fit, evaluate) under torchrun: every rank runs, rank 0 writes.

    torchrun --nproc_per_node 4 -m imageprivacy train-generator fashion-mnist --out gen.safetensors --device cuda

torchrun starts one process per GPU (or CPU worker) with WORLD_SIZE, RANK and LOCAL_RANK set; each
runs the verb, the training loops split every batch between them (training/distributed.py), and only
rank 0 prints progress and writes the checkpoint or results. The others wait for it at a barrier, then
all leave the process group. Without torchrun this does nothing and the verb runs as one process.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

from imageprivacy.errors import ConfigurationError
from imageprivacy.training import distributed


def check_launch(args) -> None:
    """Refuse a verb that has no data-parallel path when torchrun started several processes.

    Each process would run the whole job and write the same files at once; one process does it right.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not getattr(args, "data_parallel", False):
        raise ConfigurationError(f"`{args.command}` runs as one process; under torchrun only train-generator, "
                                 "fit and evaluate train data-parallel (run the others without torchrun)")


@contextmanager
def data_parallel(args):
    """Join torchrun's process group for the verb's body; yields whether this process writes.

    The verb's parser sets `data_parallel=True` (check_launch refuses the others). Sets args.device to
    this rank's GPU (cuda:LOCAL_RANK) on CUDA, and silences progress on all ranks
    but rank 0. On an error no rank waits at the barrier (torchrun stops the others).
    """
    args.device = distributed.init_from_env(args.device)
    writer = distributed.is_writer()
    args.quiet = args.quiet or not writer
    try:
        yield writer
    except BaseException:
        distributed.shutdown(wait=False)
        raise
    distributed.shutdown(wait=True)
