import sys, time, shutil, cProfile, pstats
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import numpy as np, torch
from PIL import Image
from protect_throughput import fresh_generator
from imageprivacy.protections.unlearnable.protect_folder import protect_path
inp = Path("/tmp/prof/in/small")
if not inp.exists():
    inp.mkdir(parents=True); rng = np.random.default_rng(0)
    for i in range(2000):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(inp / f"{i:06d}.png")
torch.manual_seed(0); g = fresh_generator(3, "mixture", "cpu")
for k in range(3):
    out = Path(f"/tmp/prof/out{k}"); shutil.rmtree(out, ignore_errors=True)
    if k == 2:
        pr = cProfile.Profile(); pr.enable()
    s = time.perf_counter(); summ = protect_path(g, inp, out); t = time.perf_counter() - s
    if k == 2:
        pr.disable()
    print(k, "total", round(t, 2), "pipeline", round(summ.protect_seconds, 2), round(summ.images_per_second), "img/s")
pstats.Stats(pr).sort_stats("tottime").print_stats(25)
