"""Peak memory of `imageprivacy protect` on one large photo (the issue's bound: 8000x8000 under 1.5 GB).

    python benchmarks/protect_memory.py [--size 8000] [--channels 3] [--out FILE]

Writes a JPEG photo of SIZE x SIZE (smooth colours plus grain, as a camera's), then protects it in a
fresh process with a freshly initialised mixture generator of the default config (what a forward
pass costs does not depend on what the weights learned) and records that process's peak resident
memory (getrusage ru_maxrss), its resident memory after the imports (the floor any run pays) and
the wall time. Writes JSON (default benchmarks/results/protect_memory.json).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BOUND_BYTES = 1.5 * 2 ** 30


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:      # resident pages now (Linux)
        return int(handle.read().split()[1]) * resource.getpagesize()


def write_photo(path: Path, size: int, channels: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, size, dtype=np.float32)
    rows = []
    for start in range(0, size, 1000):                # a band at a time: this process stays small too
        band = ramp[start:start + 1000, None] * 0.5 + ramp[None, :] * 0.5
        band = band[..., None] + rng.normal(0, 12, (band.shape[0], size, channels)).astype(np.float32)
        rows.append(band.clip(0, 255).astype(np.uint8))
    pixels = np.concatenate(rows)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(path, quality=90)


def measure(photo: Path, out: Path, channels: int) -> dict:
    """Runs in the child process: imports, builds the generator, protects the photo; returns its figures."""
    import torch

    from imageprivacy.nets.generator import GeneratorConfig, build_generator
    from imageprivacy.protections import ConfounderGAN, ConfounderGANConfig
    from imageprivacy.protections.unlearnable.protect_folder import protect_path

    cfg = GeneratorConfig(channels=channels)
    meta = {"options": {"epsilon": cfg.epsilon, "config": ConfounderGANConfig(generator=cfg).to_dict()},
            "channels": channels}
    torch.manual_seed(0)
    generator = ConfounderGAN.from_checkpoint(build_generator(cfg).state_dict(), meta)
    floor = _rss_bytes()
    started = time.perf_counter()
    summary = protect_path(generator, photo, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024     # KiB on Linux
    return {"written": summary.written, "skipped": summary.skipped, "seconds": seconds,
            "peak_rss_bytes": peak, "rss_after_imports_bytes": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8000)
    parser.add_argument("--channels", type=int, default=3, choices=[1, 3])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "protect_memory.json"))
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)     # the child: PHOTO OUTPUT
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), Path(args.measure[1]), args.channels)))
        return
    from imageprivacy.experiments.provenance import provenance, write_results

    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.jpg"
        write_photo(photo, args.size, args.channels)
        child = subprocess.run([sys.executable, __file__, "--channels", str(args.channels), "--measure", str(photo),
                                str(Path(folder) / "out")], capture_output=True, text=True, check=True)
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        photo_bytes = photo.stat().st_size
    result = {"benchmark": "protect_memory", "image": f"{args.size}x{args.size}x{args.channels} JPEG (quality 90)",
              "photo_bytes": photo_bytes, "generator": "fresh mixture generator, default config", **figures,
              "peak_rss_gib": figures["peak_rss_bytes"] / 2 ** 30, "bound_gib": BOUND_BYTES / 2 ** 30,
              "within_bound": figures["peak_rss_bytes"] < BOUND_BYTES, **provenance("cpu")}
    print(json.dumps({k: result[k] for k in ("peak_rss_gib", "within_bound", "seconds")}))
    print(f"results: {write_results(result, args.out)}")


if __name__ == "__main__":
    main()
