"""What a GPU changes in the training loops: pinned-memory batch copies and bf16 autocast.

Both are no-ops on the CPU, so CPU numbers stay what they were.
- `to_device`: a batch gathered from the uint8 set in host memory is copied through pinned (page-locked)
  memory with non_blocking, so the copy runs asynchronously instead of through a staging buffer. The
  gathered batch is a fresh tensor either way (fancy indexing copies), and torch's caching host
  allocator reuses the pinned blocks, so pinning costs no extra pass over the data set.
- `mixed_precision`: bf16 autocast for the forward passes of classifiers that are trained or used as a
  judge (victims, ConfounderGAN's f and discriminator, EMN's surrogate steps). bf16 keeps float32's
  exponent range, so no loss scaling is needed; autocast itself keeps losses, softmax and norms in
  float32. Never used where noise is made that gets written: the generator, EMN's descent on the
  noise and `protect` (its 8-bit rounding and budget check, protections/pixel_budget.py) stay float32.
"""
from __future__ import annotations

import contextlib

import torch


def to_device(batch: torch.Tensor, device) -> torch.Tensor:
    """`batch` on `device`; from host memory to a GPU through pinned memory, asynchronously."""
    device = torch.device(device)
    if device.type == "cuda" and batch.device.type == "cpu":
        return batch.pin_memory().to(device, non_blocking=True)
    return batch.to(device)


def mixed_precision(device):
    """bf16 autocast on a CUDA device that supports bf16; nothing anywhere else (the CPU keeps float32)."""
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
