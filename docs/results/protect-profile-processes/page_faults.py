"""2,000 32x32 files through the serial worker, in this process: run it under `perf stat -e page-faults` with
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576 or =33554432 (outputs.txt). Argument: the inputs' root."""
import shutil, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
import serial_worker
from imageprivacy.protections.checkpoint import load_protection
from imageprivacy.protections.unlearnable.folder_job import folder_job
base = sys.argv[1] if len(sys.argv) > 1 else "/dev/shm/proto"
p = load_protection(f"{base}/in/generator.safetensors")
torch.set_num_threads(1)
root = Path(f"{base}/sc"); shutil.rmtree(root, ignore_errors=True)
with folder_job(p, f"{base}/in/small", root, 64, None, False, None, 1) as job:
    serial_worker.STATE.update(p=p, root=job.manifest.root, identity=job.summary.identity, use_labels=False)
    t = time.perf_counter()
    serial_worker.work((list(job.plan.jobs), list(job.labels), [None] * len(job.plan.jobs)))
    print("work", time.perf_counter() - t, file=sys.stderr)
