"""cProfile of the serial worker on 2,000 32x32 files (tmpfs), with the job's malloc thresholds; reads /dev/shm/proto/in."""
import cProfile, pstats, shutil, torch
from pathlib import Path
from imageprivacy.protections.checkpoint import load_protection
from imageprivacy.protections.unlearnable.folder_job import folder_job
from imageprivacy.protections.unlearnable.file_shard import ShardSettings, protect_rows
torch.set_num_threads(1)
p = load_protection("/dev/shm/proto/in/generator.safetensors")
root = Path("/dev/shm/proto/pr"); shutil.rmtree(root, ignore_errors=True)
with folder_job(p, "/dev/shm/proto/in/small", root, 64, None, False, None, 1) as job:
    settings = ShardSettings(job.manifest.root, job.summary.identity, False, False, 64, 1, 0)
    rows = [(j, l, None) for j, l in zip(job.plan.jobs, job.labels)]
    from imageprivacy.protections.unlearnable import file_pipeline
    file_pipeline._large_buffers_back_to_the_system()
    import sys; sys.path.insert(0, str(Path(__file__).resolve().parent))
    import serial_worker
    serial_worker.STATE.update(p=p, root=job.manifest.root, identity=job.summary.identity, use_labels=False)
    pr = cProfile.Profile(); pr.enable()
    serial_worker.work(([r[0] for r in rows], [r[1] for r in rows], [None] * len(rows)))
    pr.disable()
st = pstats.Stats(pr); st.sort_stats("cumulative").print_stats(40)
