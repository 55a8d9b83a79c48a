"""`imageprivacy protect --engine ray`: the job of protect_folder.py as a Ray Data pipeline, on one machine or many.

- This process, the driver, checks, plans and locks OUTPUT as the local engine does (folder_job.py):
  what is refused before any work still is, and the files are listed here, once.
- Each input becomes a row of a Ray Dataset (its OutputJob, its label, the manifest's record for its
  output). `map_batches` hands batches of rows to a fixed pool of ProtectWorker actors
  (ray_worker.py), one per CPU (or per GPU with a cuda device) unless `workers` says otherwise: each
  loads the checkpoint once (its bytes travel through Ray's object store), reads and decodes its
  files, protects them in batches and writes their PNGs as temporary files beside their targets, all
  in parallel with the other workers; INPUT and OUTPUT must therefore be paths every worker reaches
  (the same machine, or a shared folder).
- The Outcomes stream back to the driver, which takes them as they come (FolderJob.take): the manifest
  is written by the driver only, before it moves each output in place (output_writer.py), so the
  crash-safety rules, the resume rule, the summary and the exit code are the local engine's. A killed
  run leaves at most hidden temporary files, which the next run removes.
- Byte for byte: the workers run the local engine's steps (file_steps.py); a batch holds other images
  than it would locally, which changes no output as long as the protection computes each image
  independently of its batch-mates (the package's protections do; tests/unlearnable/test_protect_ray.py
  compares both engines).

Ray is an optional dependency (`pip install 'imageprivacy[ray]'`); nothing here imports it at load time.
"""
from __future__ import annotations

import contextlib
import importlib.util
import inspect
import logging
import os
import pickle
import time
import warnings
from pathlib import Path
from typing import Iterator

from imageprivacy.data.png_output import DEFAULT_COMPRESS_LEVEL
from imageprivacy.errors import ConfigurationError
from imageprivacy.protections.base import Progress, Protection
from imageprivacy.protections.unlearnable.folder_job import FolderJob, ProtectSummary, folder_job

RAY_HINT = "imageprivacy protect --engine ray needs Ray: pip install 'imageprivacy[ray]'"
BLOCKS_PER_WORKER = 4     # dataset blocks per worker: enough to keep every worker busy until the end


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


@contextlib.contextmanager
def ray_session(address: str | None, workers: int | None = None) -> Iterator:
    """Ray, connected: the session this process already has, the cluster at `address`, or a local one
    with this machine's CPUs (or `workers` of them, when more are asked for: one each)."""
    import ray

    if ray.is_initialized():
        yield ray
        return
    options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        ray.init(address=address, **options)
    else:
        # A local Ray's workers import this very package, installed or not (PYTHONPATH=src): the folder
        # that holds imageprivacy/ comes first on their path.
        package_root = str(Path(__file__).resolve().parents[3])
        path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        ray.init(num_cpus=max(os.cpu_count() or 1, workers or 0), runtime_env={"env_vars": {"PYTHONPATH": path}},
                 **options)
    try:
        yield ray
    finally:
        ray.shutdown()


def _worker_count(ray, device: str, workers: int | None) -> int:
    """`workers`, or one per CPU (GPU) of the cluster; ConfigurationError when it has fewer, rather than
    a pool that waits for ever for them."""
    resource = "GPU" if device.startswith("cuda") else "CPU"
    available = int(ray.cluster_resources().get(resource, 0))
    if available < max(1, workers or 0):
        raise ConfigurationError(f"the Ray cluster has {available} {resource}(s), {workers or 1} needed: "
                                 "fewer --workers, another --device or another --address")
    return workers or available


def _no_restarts(ray) -> dict:
    """max_restarts=0 where map_batches still takes Ray's remote arguments (deprecated from Ray 2.60 on).

    A worker that dies then stops the job (a re-run resumes). With Ray's default, restarting it, Ray's
    core prints a warning on every run: a restarted actor could not find the constructor arguments
    Ray Data keeps in the object store (issue ray-project/ray#53727).
    """
    takes_remote_args = any(parameter.kind is inspect.Parameter.VAR_KEYWORD
                            for parameter in inspect.signature(ray.data.Dataset.map_batches).parameters.values())
    return {"max_restarts": 0} if takes_remote_args else {}


def _dataset(ray, job: FolderJob, checkpoint, device: str, workers: int, batch_size: int, overwrite: bool,
             png_compression: int):
    """The plan's jobs as rows, mapped by a pool of `workers` ProtectWorkers into rows of pickled Outcomes."""
    from imageprivacy.protections.unlearnable.ray_worker import ProtectWorker

    rows = [{"job": pickle.dumps((plan_job, label, job.manifest.outputs.get(plan_job.target_rel)))}
            for plan_job, label in zip(job.plan.jobs, job.labels)]
    blocks = max(1, min(len(rows), workers * BLOCKS_PER_WORKER, -(-len(rows) // batch_size)))
    gpu = device.startswith("cuda")
    settings = {"checkpoint": checkpoint, "device": "cuda" if gpu else "cpu", "cpus": 1,
                "root": str(job.manifest.root), "identity": job.summary.identity, "overwrite": overwrite,
                "use_labels": job.use_labels, "batch_size": batch_size, "png_compression": png_compression}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)      # RayDeprecationWarning: see _no_restarts
        return ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            ProtectWorker, compute=ray.data.ActorPoolStrategy(size=workers), batch_size=batch_size, num_cpus=1,
            num_gpus=1 if gpu else 0, fn_constructor_kwargs=settings, **_no_restarts(ray))


def _run(ray, job: FolderJob, checkpoint: bytes, device: str, workers: int, batch_size: int,
         overwrite: bool, png_compression: int) -> None:
    """Stream the outcomes back and take each; a worker's error is raised after the outcomes before it."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False        # the command line draws its own bar from the outcomes
    logging.getLogger("ray.data").setLevel(logging.ERROR)     # its plan and timings, once per job, are noise here
    # The reference stays alive for the job: every worker reads the checkpoint's bytes from it.
    dataset = _dataset(ray, job, ray.put(checkpoint), device, workers, batch_size, overwrite, png_compression)
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        items = [pickle.loads(blob) for blob in batch["outcome"]]
        for item in items:
            if not isinstance(item, BaseException):
                job.take(item)
        errors = [item for item in items if isinstance(item, BaseException)]
        if errors:
            raise errors[0]


def protect_path_on_ray(protection: Protection, checkpoint: str | Path, input_path: str | Path,
                        output_path: str | Path, batch_size: int = 64, progress: Progress | None = None,
                        overwrite_outputs: bool = False, use_folder_labels: bool = False,
                        checkpoint_sha256: str | None = None, device: str = "cpu", workers: int | None = None,
                        address: str | None = None,
                        png_compression: int = DEFAULT_COMPRESS_LEVEL) -> ProtectSummary:
    """protect_folder.protect_path on Ray (module docstring); `protection` is `checkpoint` loaded here, for
    the checks and the manifest's record; every worker loads its own copy on `device`."""
    if not ray_installed():
        raise ConfigurationError(RAY_HINT)
    if workers is not None and workers < 1:
        raise ConfigurationError(f"workers must be >= 1, got {workers}")
    checkpoint_bytes = Path(checkpoint).read_bytes()
    with folder_job(protection, input_path, output_path, batch_size, progress, use_folder_labels,
                    checkpoint_sha256, png_compression) as job:
        if not job.plan.jobs:
            return job.summary
        with ray_session(address, workers) as ray:
            count = _worker_count(ray, str(device), workers)
            started = time.perf_counter()
            try:
                _run(ray, job, checkpoint_bytes, str(device), count, batch_size, overwrite_outputs,
                     png_compression)
            finally:
                job.summary.protect_seconds = time.perf_counter() - started
    return job.summary
