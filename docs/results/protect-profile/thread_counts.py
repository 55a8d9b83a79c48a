import sys, time, shutil
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import torch
from protect_throughput import fresh_generator
from imageprivacy.protections.unlearnable.protect_folder import protect_path
inp = Path("/tmp/prof/in/small")
torch.manual_seed(0); g = fresh_generator(3, "mixture", "cpu")
for th in [1, 2, 4, 1, 2, 4]:
    out = Path(f"/tmp/prof/outth"); shutil.rmtree(out, ignore_errors=True)
    s = time.perf_counter(); summ = protect_path(g, inp, out, threads=th); t = time.perf_counter() - s
    print(th, "total", round(t, 2), "pipeline", round(summ.protect_seconds, 2), round(summ.images_per_second), "img/s")
