"""The verbs that train (train-generator, fit, evaluate) under torchrun: every rank runs, rank 0 writes.

    torchrun --nproc_per_node 4 -m imageprivacy train-generator fashion-mnist --out gen.safetensors --device cuda

torchrun starts one process per GPU (or CPU worker) with WORLD_SIZE, RANK and LOCAL_RANK set; each
runs the verb, the training loops split every batch between them (training/distributed.py), and only
rank 0 prints progress and writes the checkpoint or results. The others wait for it at a barrier, then
all leave the process group. Without torchrun this does nothing and the verb runs as one process.
"""
from __future__ import annotations

from contextlib import contextmanager

from imageprivacy.training import distributed


@contextmanager
def data_parallel(args):
    """Join torchrun's process group for the verb's body; yields whether this process writes.

    Sets args.device to this rank's GPU (cuda:LOCAL_RANK) on CUDA, and silences progress on all ranks
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
