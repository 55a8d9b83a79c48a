"""Why protections/base.py's STRIPE_VALUES is what it is: `protect` time against the stripe size.

    python benchmarks/protect_stripes.py [--threads 1] [--repeats 3] [--out FILE]

Times `ConfounderGAN.protect` (a fresh mixture generator of the default config, uint8 in and out) on
1024x1024 photos one and five at a time (the file pipeline batches up to five: protect_batches.py's
BATCH_VALUES_LIMIT) and on 32x32 images 64 and 1024 at a time, for each stripe size; "none" means
one block (no stripes). Every result is compared with the one-block result: stripes must not change
a pixel. Writes JSON (default benchmarks/results/protect_stripes.json).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))    # protect_throughput.fresh_generator, timed

import imageprivacy.protections.base as base                # noqa: E402
from imageprivacy.experiments.provenance import provenance, write_results  # noqa: E402
from protect_throughput import fresh_generator, timed       # noqa: E402

CASES = {"photo_x1": (1, 1024), "photo_x5": (5, 1024), "small_x64": (64, 32), "small_x1024": (1024, 32)}
STRIPES = {"none": 1 << 40, "4M": 1 << 22, "1M": 1 << 20, "256k": 1 << 18}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the file pipeline gives it one "
                        "core fewer than the machine has: file_pipeline.py)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "protect_stripes.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    method = fresh_generator(3, "mixture", "cpu")
    method.batch_size = 1024
    kept = base.STRIPE_VALUES
    seconds: dict[str, dict[str, float]] = {}
    try:
        for case, (count, side) in CASES.items():
            images = torch.randint(0, 256, (count, 3, side, side), dtype=torch.uint8)
            base.STRIPE_VALUES = STRIPES["none"]
            reference = method.protect(images)
            seconds[case] = {}
            for name, values in STRIPES.items():
                base.STRIPE_VALUES = values
                if not torch.equal(method.protect(images), reference):
                    raise SystemExit(f"stripes of {name} values changed the pixels of {case}")
                seconds[case][name] = timed(lambda: method.protect(images), args.repeats) / count
    finally:
        base.STRIPE_VALUES = kept
    result = {"benchmark": "protect_stripes", "seconds_per_image": seconds, "stripe_values": STRIPES,
              "default_stripe_values": kept, "timing": f"best of {args.repeats} after one warm-up, per image",
              "torch_threads": args.threads, **provenance("cpu")}
    print(json.dumps(seconds, indent=1))
    print(f"results: {write_results(result, args.out)}")


if __name__ == "__main__":
    main()
