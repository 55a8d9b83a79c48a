"""Throughput of `ConfounderGAN.protect` (uint8 in, uint8 out: the whole public call) on this machine.

    python benchmarks/protect_throughput.py [--generator GEN.safetensors] [--device cpu] [--out FILE]

Without --generator it times a freshly initialised generator of the default configuration: the
cost of a forward pass does not depend on what the weights learned. Writes JSON (default
benchmarks/results/protect_throughput.json) with images/s at 32x32 and seconds per 1024x1024 image.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.nets.generator import GeneratorConfig, build_generator
from imageprivacy.protections import ConfounderGAN, ConfounderGANConfig, load_protection


def fresh_generator(channels: int, kind: str, device: str) -> ConfounderGAN:
    """An untrained generator of the default config (its cost is the trained one's), rebuilt as a checkpoint is."""
    cfg = GeneratorConfig(channels=channels, kind=kind)
    meta = {"options": {"epsilon": cfg.epsilon, "config": ConfounderGANConfig(generator=cfg).to_dict()},
            "channels": channels}
    return ConfounderGAN.from_checkpoint(build_generator(cfg).state_dict(), meta, device=device)


def timed(fn, repeats: int) -> float:
    """Best-of-`repeats` wall time in seconds, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", default=None)
    parser.add_argument("--kind", default="mixture", choices=["mixture", "direct"])
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=4096, help="images per timed call at 32x32")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "protect_throughput.json"))
    args = parser.parse_args()
    torch.manual_seed(0)
    method = (load_protection(args.generator, device=args.device) if args.generator
              else fresh_generator(args.channels, args.kind, args.device))
    method.batch_size = 1024
    c = method.channels
    small = torch.randint(0, 256, (args.batch, c, 32, 32), dtype=torch.uint8)
    large = torch.randint(0, 256, (1, c, 1024, 1024), dtype=torch.uint8)
    sec_small = timed(lambda: method.protect(small), args.repeats)
    sec_large = timed(lambda: method.protect(large), args.repeats)
    result = {
        "benchmark": "protect_throughput",
        "generator": args.generator or f"fresh {args.kind} generator, default config",
        "generator_config": method.config.generator.to_dict(),
        "channels": c,
        "images_per_second_32x32": args.batch / sec_small,
        "batch_32x32": args.batch,
        "seconds_per_1024x1024_image": sec_large,
        "timing": f"best of {args.repeats} after one warm-up, uint8 in and out",
        "torch_threads": torch.get_num_threads(),
        **provenance(args.device),
    }
    print(json.dumps({k: result[k] for k in ("images_per_second_32x32", "seconds_per_1024x1024_image")}))
    print(f"results: {write_results(result, args.out)}")


if __name__ == "__main__":
    main()
