"""Data-parallel training under torchrun: which rank this process is, its share of every batch, DDP.

`torchrun --nproc_per_node N -m imageprivacy train-generator ...` starts N processes with WORLD_SIZE,
RANK and LOCAL_RANK set; `init_from_env` joins them into one process group (nccl on CUDA, gloo on
the CPU). Without a process group nothing here changes anything: `world()` is one process of rank 0,
`shard` and `rank_batches` return the permutation as one process splits it, `wrap` returns the model,
so a single process runs the numbers it ran before torchrun existed for it.

The contract the training loops keep (classifier_training.py, ConfounderGAN's game and selector_fit.py,
EMN's surrogate and noise):
- every rank draws the same permutation each epoch (one seed) and takes its part of every global
  batch (`rank_batches`): the global batch, the step count and so the learning-rate schedule are
  those of one process;
- DDP averages the ranks' gradients; their batches are equal in size, so that is the gradient of the
  mean loss over the global batch;
- a number that decides what the loop does next (EMN's stop, the selector's target) is summed over
  the ranks (`all_sum`), so every rank takes the same branch and none waits forever in a collective;
- only rank 0 writes (`is_writer`); the command line waits for it at a barrier (cli/data_parallel.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from imageprivacy.errors import ConfigurationError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_writer(self) -> bool:
        return self.rank == 0


def world() -> World:
    """This process's place among the ranks; one process of rank 0 when no process group exists."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return World()


def is_writer() -> bool:
    return world().is_writer


def init_from_env(device: str = "cpu") -> str:
    """Join the process group torchrun describes in the environment; returns the device this rank uses.

    On CUDA each rank takes the GPU of its LOCAL_RANK (so `--device cuda` under torchrun means one GPU
    per process) and the backend is nccl; on the CPU it is gloo. Without WORLD_SIZE > 1 it does nothing.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or dist.is_initialized():
        return device
    on_cuda = torch.device(device).type == "cuda"
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if on_cuda:
        if local >= torch.cuda.device_count():
            raise ConfigurationError(f"rank with LOCAL_RANK {local} needs a GPU of its own; this machine has "
                                     f"{torch.cuda.device_count()} (torchrun --nproc_per_node <= GPUs)")
        device = f"cuda:{local}"
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if on_cuda else "gloo")
    return device


def barrier() -> None:
    if not world().distributed:
        return
    if dist.get_backend() == "nccl":
        dist.barrier(device_ids=[torch.cuda.current_device()])
    else:
        dist.barrier()


def shutdown(wait: bool = True) -> None:
    """Leave the process group; with `wait`, first wait at a barrier until every rank (the writer) is done."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    if wait:
        barrier()
    dist.destroy_process_group()


def shard(indices: torch.Tensor, pad: bool = True) -> torch.Tensor:
    """This rank's positions r, r + size, r + 2 size, ... of `indices` (DistributedSampler's rule).

    With `pad` the list is first padded with its own first entries to a multiple of the world size,
    as DistributedSampler pads, so every rank gets as many and takes as many optimizer steps (DDP's
    all-reduce needs every rank in every step); those few images count twice in that epoch. Without
    `pad` every index goes to exactly one rank (evaluation passes, EMN's noise update).

    Why not DistributedSampler itself: it feeds a DataLoader one item at a time and draws its own
    permutation from seed + epoch, while here the images stay one uint8 tensor that is indexed a
    batch at a time, and the permutation must be the one the single-process loop draws (one generator
    across epochs), or one process would no longer give the numbers it gave before.
    """
    ranks = world()
    if not ranks.distributed:
        return indices
    if pad and len(indices) % ranks.size:
        extra = ranks.size - len(indices) % ranks.size
        indices = torch.cat([indices, indices.repeat(-(-extra // max(1, len(indices))))[:extra]])
    return indices[ranks.rank::ranks.size]


def rank_batches(order: torch.Tensor, global_batch: int) -> tuple[torch.Tensor, ...]:
    """This rank's part of each global batch of `order`, in the order one process takes them.

    The strided shard split into batches of global_batch / size: the k-th batches of all ranks
    together are positions [k B, (k + 1) B) of `order`, the k-th batch of one process, and there are
    ceil(N / B) of them, as many as one process takes.
    """
    ranks = world()
    if global_batch % ranks.size:
        raise ConfigurationError(f"the batch size {global_batch} must be divisible by the number of "
                                 f"processes ({ranks.size}): each takes an equal part of every batch")
    return shard(order).split(global_batch // ranks.size)


class _MethodAsForward(nn.Module):
    """DDP averages the gradients only of what its own forward computed: this makes `method` the forward."""

    def __init__(self, module: nn.Module, method: str):
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *args, **kwargs):
        return getattr(self.module, self.method)(*args, **kwargs)


def wrap(model: nn.Module, method: str = "forward"):
    """What to call to train `model` through `method`: DDP under torchrun, the model's own call otherwise.

    The model's parameters must all take part in every backward (DDP's default check); parameters
    that a stage does not train are frozen (requires_grad False) before wrapping. DDP starts every
    rank from rank 0's weights and buffers and, before each forward, copies rank 0's buffers to the
    others: BatchNorm normalises each rank's own global_batch / size images in train mode (smaller
    batches' statistics, like ghost batch norm, so results differ from one process slightly), and
    its running statistics are those of rank 0's batches.
    """
    if not world().distributed:
        return model if method == "forward" else getattr(model, method)
    entry = model if method == "forward" else _MethodAsForward(model, method)
    device = next(model.parameters()).device
    return DistributedDataParallel(entry, device_ids=[device.index] if device.type == "cuda" else None)


def _collective_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def sum_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of `tensor` over all ranks (itself in one process), on `tensor`'s device."""
    if not world().distributed:
        return tensor
    total = tensor.to(_collective_device(), copy=True)
    dist.all_reduce(total)
    return total.to(tensor.device)


def all_sum(values: list[float]) -> list[float]:
    """Numbers summed over all ranks (float64); the numbers themselves in one process."""
    if not world().distributed:
        return list(values)
    return sum_over_ranks(torch.tensor(values, dtype=torch.float64)).tolist()


@torch.no_grad()
def share_rank0_buffers(model: nn.Module) -> None:
    """Give every rank rank 0's buffers (BatchNorm running statistics), so all ranks hold the same model.

    DDP copies them only before a forward, so after the last training step each rank's statistics
    include its own last batch; rank 0's are the ones its checkpoint keeps.
    """
    if not world().distributed:
        return
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)
