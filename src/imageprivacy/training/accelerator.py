"""What the hardware changes in the training loops: pinned-memory batch copies and bf16 autocast.

- `to_device`: a batch gathered from the uint8 set in host memory is copied through pinned (page-locked)
  memory with non_blocking, so the copy runs asynchronously instead of through a staging buffer. The
  gathered batch is a fresh tensor either way (fancy indexing copies), and torch's caching host
  allocator reuses the pinned blocks, so pinning costs no extra pass over the data set.
- `mixed_precision`: bf16 autocast for the forward passes of classifiers that are trained or used as a
  judge (victims and their test passes, ConfounderGAN's f, discriminator and selector, EMN's surrogate
  steps and the surrogate's passes in its descent), under precision "auto" on a CUDA GPU that supports
  bf16 and on a CPU with bf16 units
  (AVX512-BF16 or AMX), where a victim's step is 1.7x faster (benchmarks/results/training_step.json) and ends as accurate (a 3k clean victim:
  0.811 vs 0.815, docs/results/demo-bf16/README.md). "float32" turns it off, "bfloat16" forces it.
  bf16 keeps float32's exponent range, so no loss scaling is needed; autocast itself keeps losses,
  softmax and norms in float32. Never used where noise is made that gets written: the generator,
  EMN's noise update (the image, its gradient and the noise; error_minimizing_noise.py) and `protect`
  (its 8-bit rounding and budget check, protections/pixel_budget.py) stay float32.
- `channels_last`: a model's weights in NHWC order while it trains, which oneDNN's and cuDNN's
  convolutions prefer (about 1.2x here, same file); contiguous again after training, since
  safetensors writes only contiguous tensors. Only on a GPU or a CPU with bf16 units (see the function).
"""
from __future__ import annotations

import contextlib
import os

import torch

from imageprivacy.errors import ConfigurationError

PRECISIONS = ("auto", "float32", "bfloat16")
_chosen = {"precision": os.environ.get("IMAGEPRIVACY_PRECISION", "auto")}


def set_precision(name: str) -> None:
    """The training loops' precision from now on: "auto" (the default), "float32" or "bfloat16"."""
    if name not in PRECISIONS:
        raise ConfigurationError(f"unknown precision {name!r}; known: {', '.join(PRECISIONS)}")
    _chosen["precision"] = name


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matrix units, without which CPU autocast is slower than float32."""
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check() for check in checks if check is not None)


def autocast_dtype(device) -> torch.dtype | None:
    """torch.bfloat16 where the loops autocast on `device` under the chosen precision, None for float32."""
    precision = _chosen["precision"]
    if precision not in PRECISIONS:     # a bad IMAGEPRIVACY_PRECISION is reported where it is used
        raise ConfigurationError(f"IMAGEPRIVACY_PRECISION={precision!r}; known: {', '.join(PRECISIONS)}")
    device = torch.device(device)
    if precision == "float32" or device.type not in ("cpu", "cuda"):
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    native = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_native_bf16()
    return torch.bfloat16 if native else None


def to_device(batch: torch.Tensor, device) -> torch.Tensor:
    """`batch` on `device`; from host memory to a GPU through pinned memory, asynchronously."""
    device = torch.device(device)
    if device.type == "cuda" and batch.device.type == "cpu":
        return batch.pin_memory().to(device, non_blocking=True)
    return batch.to(device)


def mixed_precision(device):
    """bf16 autocast where `autocast_dtype` says so; nothing otherwise."""
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


@contextlib.contextmanager
def channels_last(model: torch.nn.Module):
    """`model`'s 4-D weights in channels-last order inside the block, contiguous again after it.

    Only on a GPU or a CPU with bf16 units, where it was measured; on a CPU without them (an AMD EPYC
    without AVX-512, torch 2.13.0+cpu) a channels-last ResNet's backward aborted the process."""
    first = next(model.parameters(), None)
    on_cuda = first is not None and first.device.type == "cuda"
    if not (on_cuda or cpu_has_native_bf16()):
        yield model
        return
    model.to(memory_format=torch.channels_last)
    try:
        yield model
    finally:
        model.to(memory_format=torch.contiguous_format)
