"""Serial cost of each stage of protect for N 32x32 PNGs and 8 photos (one thread)."""
import sys, time, tempfile, os
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import numpy as np, torch
from PIL import Image
from protect_throughput import fresh_generator
from protect_memory import write_photo
from imageprivacy.data.image_files import read_source, decode_image, encode_png
from imageprivacy.protections.unlearnable.protected_pixels import split, merge, check_budget, budget_limit
from imageprivacy.protections.unlearnable.output_writer import write_temporary
from imageprivacy.protections.unlearnable.protection_identity import source_record

torch.manual_seed(0)
g = fresh_generator(3, "mixture", "cpu")
tmp = Path(tempfile.mkdtemp())
rng = np.random.default_rng(0)
N = 2000
for i in range(N):
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(tmp / f"{i:06d}.png")
for i in range(8):
    write_photo(tmp / f"p{i}.jpg", 1024, 3)

def stages(files, batch):
    t = {}
    s = time.perf_counter(); datas = [read_source(f) for f in files]; t["read"] = time.perf_counter() - s
    s = time.perf_counter(); recs = [source_record(f.name, d, {}, 1) for f, d in zip(files, datas)]; t["record"] = time.perf_counter() - s
    s = time.perf_counter(); imgs = [decode_image(d, f, keep_16_bit=True) for f, d in zip(files, datas)]; t["decode"] = time.perf_counter() - s
    s = time.perf_counter(); parts = [split(im, 3) for im in imgs]; t["split"] = time.perf_counter() - s
    outs = []
    s = time.perf_counter()
    with torch.inference_mode():
        for k in range(0, len(parts), batch):
            b = [p[0] for p in parts[k:k + batch]]
            x = b[0].unsqueeze(0) if len(b) == 1 else torch.stack(b)
            outs.extend(g.protect(x))
    t["protect"] = time.perf_counter() - s
    s = time.perf_counter(); res = [merge(im, [o], g.epsilon, g.bounded) for im, o in zip(imgs, outs)]; t["merge"] = time.perf_counter() - s
    s = time.perf_counter()
    for im, r, f in zip(imgs, res, files): check_budget(im.pixels, r, budget_limit(im, g.epsilon, g.bounded), f.name)
    t["budget"] = time.perf_counter() - s
    out = tmp / "out"; out.mkdir(exist_ok=True)
    s = time.perf_counter()
    for im, r, f in zip(imgs, res, files):
        write_temporary(out / (f.stem + ".png"), lambda o: encode_png(o, r, im.alpha, original_mode=im.mode, icc_profile=im.icc_profile, transparency=im.transparent_color, compress_level=1))
    t["encode+write"] = time.perf_counter() - s
    n = len(files)
    return {k: round(v / n * 1e3, 4) for k, v in t.items()}

small = sorted(tmp.glob("0*.png")); photos = sorted(tmp.glob("p*.jpg"))
for th in (1,):
    torch.set_num_threads(th)
    stages(small[:200], 64)
    print("threads", th, "small ms/img", stages(small, 64))
    print("threads", th, "photo ms/img", stages(photos, 64))
