"""`imageprivacy protect` through the command line on files: images/s at 32x32 and seconds per 1024x1024 photo.

    python benchmarks/protect_files.py [--engines local,ray:1,ray:2] [--before OLD_CHECKOUT/src]
                                       [--args '--batch-size 256'] [--small 2000] [--photos 8]
                                       [--repeats 3] [--out FILE]

Writes, in a temporary folder, SMALL random 32x32 RGB PNGs, PHOTOS 1024x1024 JPEG photos (smooth colours
plus grain, as protect_memory.py writes them) and one 32x32 PNG, and a freshly initialised mixture
generator of the default config (a forward pass costs what a trained one's does). Then, REPEATS times and
interleaved, runs `python -m imageprivacy protect` in a fresh process on each folder, for each engine
(`local`: the command's defaults; `local:N`: `--workers N` worker processes, 1 = one process with
threads; `ray:N`: `--engine ray --workers N`, a local Ray started by the command). Start-up (imports,
the generator, Ray) is what the one-file run takes; it is subtracted:

    images/s at 32x32 = (SMALL - 1) / (median time of SMALL files - median time of one file)
    s per photo       = (median time of PHOTOS photos - median time of one file) / PHOTOS

`--before SRC` also runs another checkout's package (its `src/`; engine `local`, named `before`),
interleaved with the others, to measure the code before a change the same way. The machine's load average is recorded before and
after: the figures of a busy machine are not those of an idle one. Writes JSON (default
benchmarks/results/protect_files.json).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))          # protect_memory.write_photo, protect_throughput.fresh_generator


def write_inputs(folder: Path, small: int, photos: int) -> dict[str, Path]:
    import numpy as np
    import torch
    from PIL import Image

    from imageprivacy.protections import save_protection
    from protect_memory import write_photo
    from protect_throughput import fresh_generator

    torch.manual_seed(0)
    save_protection(fresh_generator(3, "mixture", "cpu"), folder / "generator.safetensors")
    rng = np.random.default_rng(0)
    for name, count in (("one", 1), ("small", small)):
        (folder / name).mkdir()
        for index in range(count):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / name / f"{index:06d}.png")
    (folder / "photos").mkdir()
    for index in range(photos):
        write_photo(folder / "photos" / f"{index:03d}.jpg", 1024, 3)
    return {"one": folder / "one", "small": folder / "small", **({"photos": folder / "photos"} if photos else {})}


def engine_args(engine: str) -> list[str]:
    kind, _, workers = engine.partition(":")
    engine_flag = [] if kind in ("local", "before") else ["--engine", kind]
    return [*engine_flag, *(["--workers", workers] if workers else [])]


def timed_run(src: Path, generator: Path, source: Path, output: Path, extra: list[str]) -> tuple[float, str]:
    """Wall seconds of one `protect` process, and the line it printed with the counts."""
    shutil.rmtree(output, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "imageprivacy", "protect", "--generator", str(generator), *extra,
               str(source), str(output)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    counts = next((line for line in done.stdout.splitlines() if " written, " in line), "")
    return seconds, counts


def figures(times: dict[str, list[float]], small: int, photos: int) -> dict:
    median = {case: statistics.median(values) for case, values in times.items()}
    photos = photos if "photos" in median else 0
    return {"seconds": times, "median_seconds": median, "startup_seconds": median["one"],
            "images_per_second_32x32": (small - 1) / max(1e-9, median["small"] - median["one"]),
            "seconds_per_1024x1024_photo": (median["photos"] - median["one"]) / photos if photos else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="local", help="comma-separated: local, local:N, ray:N (N workers)")
    parser.add_argument("--before", default=None, help="another checkout's src/, run as engine `before`")
    parser.add_argument("--args", default="", help="more arguments for every `protect`, e.g. '--batch-size 256'")
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "protect_files.json"))
    args = parser.parse_args()
    engines = args.engines.split(",") + (["before"] if args.before else [])
    sources = {engine: Path(args.before if engine == "before" else HERE.parent / "src") for engine in engines}
    from imageprivacy.experiments.provenance import provenance, write_results

    load_before = os.getloadavg()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        inputs = write_inputs(Path(folder), args.small, args.photos)
        times = {engine: {case: [] for case in inputs} for engine in engines}
        printed = {engine: {} for engine in engines}
        for _ in range(args.repeats):
            for engine in engines:
                for case, source in inputs.items():
                    seconds, counts = timed_run(sources[engine], Path(folder) / "generator.safetensors", source,
                                                Path(folder) / "out", engine_args(engine) + args.args.split())
                    times[engine][case].append(seconds)
                    printed[engine][case] = counts
        for engine in engines:
            results[engine] = {**figures(times[engine], args.small, args.photos), "printed": printed[engine]}
    result = {"benchmark": "protect_files", "sources": {engine: str(src) for engine, src in sources.items()},
              "protect_arguments": args.args,
              "engines": results, "small_images": args.small, "photos": args.photos, "repeats": args.repeats,
              "generator": "fresh mixture generator, default config", "load_average_before": load_before,
              "load_average_after": os.getloadavg(),
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), **provenance("cpu")}
    print(json.dumps({engine: {k: round(v, 4) for k, v in figures_.items()
                               if k in ("images_per_second_32x32", "seconds_per_1024x1024_photo", "startup_seconds")
                               and v is not None}
                      for engine, figures_ in results.items()}))
    print(f"results: {write_results(result, args.out)}")


if __name__ == "__main__":
    main()
