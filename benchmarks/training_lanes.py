"""Training steps per second of the paper-recipe victim: one process on every core, or lanes side by side.

    python benchmarks/training_lanes.py [--lanes 2] [--steps 20] [--repeats 3] [--out FILE]

The victim of the demo (ResNet-18 at width 16, 28x28 gray, batch 128, SGD, bf16 autocast where the CPU has
bf16 units, channels-last, as training/accelerator.py chooses) takes STEPS timed steps after 3 warm-up
steps: first in one process with as many torch threads as cores, then in LANES processes started together
with cores // LANES threads each. The steps per second of all lanes together against the one process is
what experiments/side_by_side.py counts on. Interleaved repeats, medians; the load average is recorded
before and after. Writes JSON (default benchmarks/results/training_lanes.json).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker(threads: int, steps: int) -> None:
    import torch
    import torch.nn.functional as F

    from imageprivacy.nets import build_net
    from imageprivacy.training.accelerator import channels_last, mixed_precision

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_net("resnet18", 1, 10, width=16, image_size=(28, 28))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
    with channels_last(model):
        def step():
            with mixed_precision("cpu"):
                loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        for _ in range(3):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        print(json.dumps({"ms_per_step": 1000 * (time.perf_counter() - start) / steps}))


def run_lanes(lanes: int, threads: int, steps: int) -> list[float]:
    """ms per step of each of `lanes` processes started together."""
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(threads), "--steps", str(steps)],
                              stdout=subprocess.PIPE, text=True) for _ in range(lanes)]
    return [json.loads(p.communicate()[0].strip().splitlines()[-1])["ms_per_step"] for p in procs]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lanes", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "training_lanes.json"))
    args = p.parse_args()
    if args.worker is not None:
        return worker(args.worker, args.steps)
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()
    one, side = [], []
    for _ in range(args.repeats):
        one.append(run_lanes(1, cores, args.steps)[0])
        side.append(run_lanes(args.lanes, max(1, cores // args.lanes), args.steps))
    one_rate = 1000 / statistics.median(one)
    lane_rates = [sum(1000 / ms for ms in repeat) for repeat in side]
    result = {"benchmark": "training_lanes", "cores": cores, "lanes": args.lanes, "steps": args.steps,
              "repeats": args.repeats, "one_process_ms_per_step": one, "lanes_ms_per_step": side,
              "one_process_steps_per_s": one_rate, "lanes_steps_per_s_median": statistics.median(lane_rates),
              "speedup": statistics.median(lane_rates) / one_rate,
              "load_average_before": load_before, "load_average_after": os.getloadavg()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
