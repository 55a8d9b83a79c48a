"""Seconds and bytes of one PNG encode at each zlib level, 0..9: the figures behind `protect --png-compression`.

    python benchmarks/png_levels.py [--size 1024] [--repeats 3] [--out FILE]

One SIZE x SIZE RGB photo made as protect_memory.py's write_photo makes it (smooth colours plus grain),
passed through a JPEG of quality 90 in memory, as `protect` reads that benchmark's photo; then, per
level, the best of REPEATS timings of `Image.save(format="PNG", compress_level=L)` into memory, and the
PNG's size. The machine's load average is recorded: a busy machine's seconds are not an idle one's.
Writes JSON (default benchmarks/results/png_levels.json).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import time
import zlib
from pathlib import Path

import numpy as np
import PIL
from PIL import Image


def photo(size: int) -> Image.Image:
    """protect_memory.write_photo's pixels (one band: SIZE is small here), decoded from a JPEG of quality 90."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, size, dtype=np.float32)
    smooth = ramp[:, None] * 0.5 + ramp[None, :] * 0.5
    pixels = (smooth[..., None] + rng.normal(0, 12, (size, size, 3)).astype(np.float32)).clip(0, 255)
    jpeg = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(jpeg, format="JPEG", quality=90)
    return Image.open(io.BytesIO(jpeg.getvalue())).convert("RGB")


def measure(image: Image.Image, level: int, repeats: int) -> dict:
    seconds = []
    for _ in range(repeats):
        out = io.BytesIO()
        started = time.perf_counter()
        image.save(out, format="PNG", compress_level=level)
        seconds.append(time.perf_counter() - started)
    return {"level": level, "seconds": min(seconds), "bytes": len(out.getvalue())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "png_levels.json")
    args = parser.parse_args()
    image = photo(args.size)
    load_before = os.getloadavg()[0]
    levels = [measure(image, level, args.repeats) for level in range(10)]
    raw = args.size * args.size * 3
    for row in levels:
        row["ratio_to_raw"] = round(row["bytes"] / raw, 3)
    result = {"benchmark": "png_levels", "size": args.size, "repeats": args.repeats, "raw_bytes": raw,
              "pillow": PIL.__version__, "zlib": zlib.ZLIB_RUNTIME_VERSION, "python": platform.python_version(),
              "cpus": os.cpu_count(), "load_average": [load_before, os.getloadavg()[0]], "levels": levels}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for row in levels:
        print(f"level {row['level']}: {row['seconds']:.3f} s, {row['bytes'] / 1e6:.2f} MB ({row['ratio_to_raw']:.0%} of raw)")


if __name__ == "__main__":
    main()
