"""A shard protected serially (no threads) in forked workers; the owner's take timed. Reads /tmp/proto/in."""
import multiprocessing as mp, sys, time, shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import torch
from imageprivacy.protections.checkpoint import load_protection
from imageprivacy.protections.unlearnable.folder_job import folder_job
from imageprivacy.protections.unlearnable.file_steps import Decoded, examine, write_protected
from imageprivacy.protections.unlearnable.protect_batches import Batcher
from imageprivacy.protections.unlearnable.output_manifest import Manifest

STATE = {}
def init():
    torch.set_num_threads(1)
def work(chunk):
    t0 = time.perf_counter()
    jobs, labels, records = chunk
    p = STATE["p"]; root, identity = STATE["root"], STATE["identity"]
    manifest = Manifest(root, {j.target_rel: r for j, r in zip(jobs, records) if r is not None})
    out = []
    b = Batcher(p, 64, lambda w: out.append(write_protected(w.item, list(w.parts), p)), STATE["use_labels"])
    for j, l in zip(jobs, labels):
        item = examine(j, l, manifest, identity, False, 1)
        if isinstance(item, Decoded):
            b.add(item, item.image, item.label)
        else:
            out.append(item)
    b.flush_all()
    return out, time.perf_counter() - t0

def run(src, dst, workers, chunk_size):
    shutil.rmtree(dst, ignore_errors=True)
    p = load_protection("/tmp/proto/in/generator.safetensors")
    with folder_job(p, src, dst, 64, None, False, None, 1) as job:
        STATE.update(p=p, root=job.manifest.root, identity=job.summary.identity, use_labels=job.use_labels)
        t1 = time.perf_counter()
        jobs = job.plan.jobs
        chunks = [(jobs[i:i+chunk_size], job.labels[i:i+chunk_size], [job.manifest.outputs.get(j.target_rel) for j in jobs[i:i+chunk_size]]) for i in range(0, len(jobs), chunk_size)]
        take = 0.0; worker = 0.0
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=init) as pool:
            for outs, s in pool.map(work, chunks):
                worker += s
                t = time.perf_counter()
                for o in outs: job.take(o)
                take += time.perf_counter() - t
        t2 = time.perf_counter()
    return len(jobs), t2 - t1, take, worker

if __name__ == "__main__":
    for w, c in [(2, 128), (2, 250), (1, 250), (2, 1000)]:
        for name in ("small", "photos"):
            n, pipe, take, worker = run(f"/tmp/proto/in/{name}", f"/tmp/proto/out_{name}", w, c if name == "small" else 1)
            print(w, c, name, n, f"pipe {pipe:.3f}s take {take:.3f}s worker-sum {worker:.3f}s",
                  f"{n/pipe:.0f} img/s" if name=="small" else f"{pipe/n:.3f} s/photo", flush=True)
