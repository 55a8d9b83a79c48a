"""User and kernel seconds per 32x32 file in one process: the job's pipeline (threads) and the serial worker.
Argument: the inputs' root (/tmp/proto: this disk; /dev/shm/proto: tmpfs)."""
import resource, shutil, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
import serial_worker
from imageprivacy.protections.checkpoint import load_protection
from imageprivacy.protections.unlearnable.folder_job import folder_job
from imageprivacy.protections.unlearnable.file_shard import ShardSettings, protect_rows
base = sys.argv[1] if len(sys.argv) > 1 else "/tmp/proto"
p = load_protection(f"{base}/in/generator.safetensors")
torch.set_num_threads(1)
def cpu(): r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime, r.ru_stime
for mode in ("threads", "serial", "threads", "serial"):
    root = Path(f"{base}/sc"); shutil.rmtree(root, ignore_errors=True)
    with folder_job(p, f"{base}/in/small", root, 64, None, False, None, 1) as job:
        settings = ShardSettings(job.manifest.root, job.summary.identity, False, False, 64, 1, 1)
        rows = [(j, l, None) for j, l in zip(job.plan.jobs, job.labels)]
        serial_worker.STATE.update(p=p, root=job.manifest.root, identity=job.summary.identity, use_labels=False)
        u0, s0 = cpu(); t = time.perf_counter()
        if mode == "threads": protect_rows(p, settings, rows)
        else: serial_worker.work(([r[0] for r in rows], [r[1] for r in rows], [None] * len(rows)))
        w = time.perf_counter() - t; u1, s1 = cpu()
        print(base, mode, f"wall {w:.2f} user {u1-u0:.2f} sys {s1-s0:.2f} -> {1000*(u1-u0+s1-s0)/len(rows):.2f} ms cpu/img")
