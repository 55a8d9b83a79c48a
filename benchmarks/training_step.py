"""One SGD step of the paper-recipe victim (ResNet-18, width 16, 28x28 gray): float32 vs bf16 autocast,
contiguous vs channels-last weights, on this machine's CPU (or --device cuda).

    python benchmarks/training_step.py [--batch-size 128] [--steps 10] [--device cpu] [--out FILE]

Each of the four settings builds the same seeded network, takes 3 warm-up steps, then times STEPS steps
(median of 3 repeats, interleaved so a busy machine slows every setting alike). training/accelerator.py
chooses bf16 autocast ("auto") and channels-last weights from these figures. The machine's load average is
recorded before and after. Writes JSON (default benchmarks/results/training_step.json).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from imageprivacy.nets import build_net
from imageprivacy.training.accelerator import cpu_has_native_bf16

SETTINGS = [(dtype, layout) for dtype in ("float32", "bfloat16") for layout in ("contiguous", "channels_last")]


def time_steps(device: str, batch_size: int, steps: int, dtype: str, layout: str) -> float:
    """Seconds per step, after 3 warm-up steps."""
    torch.manual_seed(0)
    model = build_net("resnet18", 1, 10, width=16, image_size=(28, 28)).to(device)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(batch_size, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch_size,), device=device)
    device_type = torch.device(device).type

    def step():
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for _ in range(3):
        step()
    if device_type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device_type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "training_step.json"))
    args = p.parse_args()
    load_before = os.getloadavg()
    timings = {f"{d}/{l}": [] for d, l in SETTINGS}
    for _ in range(args.repeats):
        for dtype, layout in SETTINGS:
            timings[f"{dtype}/{layout}"].append(time_steps(args.device, args.batch_size, args.steps, dtype, layout))
    ms = {k: 1000 * statistics.median(v) for k, v in timings.items()}
    result = {"benchmark": "training_step", "device": args.device, "batch_size": args.batch_size,
              "steps": args.steps, "repeats": args.repeats, "torch_threads": torch.get_num_threads(),
              "cpu_has_native_bf16": cpu_has_native_bf16(), "ms_per_step_median": ms,
              "speedup_vs_float32_contiguous": {k: ms["float32/contiguous"] / v for k, v in ms.items()},
              "load_average_before": load_before, "load_average_after": os.getloadavg()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
