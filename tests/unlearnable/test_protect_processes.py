"""The local engine in forked worker processes (process_engine.py): one process's outputs, byte for byte, and its
error rules. Linux only (elsewhere the job runs in one process and these tests are skipped)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from imageprivacy.errors import ConfigurationError, OutputError, WorkerError
from imageprivacy.protections.checkpoint import load_protection
from imageprivacy.protections.unlearnable.output_manifest import MANIFEST_NAME
from imageprivacy.protections.unlearnable.output_writer import locked_output
from imageprivacy.protections.unlearnable.process_engine import default_processes, shard_size
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from imageprivacy.protections.unlearnable.protection_identity import file_sha256
from unlearnable.protect_doubles import (AddNoise, file_hashes, random_pixels, save_image, saved_generator,
                                         untrained_generator)
from unlearnable.test_protect_property import GOOD, write_every_kind

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes are forked on Linux only")


def _relative(hashes, root):
    return {path.relative_to(root).as_posix(): digest for path, digest in hashes.items()}


def _wait_for_output_lock(out: Path, deadline: float) -> None:
    """Until OUTPUT's lock is free. An exiting worker drops its command line (its memory) before the kernel
    closes its files, so for a moment no process names OUTPUT while a dying one still holds the lock."""
    while True:
        try:
            with locked_output(out):
                return
        except OutputError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Every kind of file protect takes, in two class folders, and a corrupt one."""
    root = tmp_path_factory.mktemp("mixed") / "in"
    write_every_kind(root, 3 * len(GOOD), 2, np.random.default_rng(3))
    (root / "k0" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    return root


def test_two_workers_write_one_processs_bytes_manifest_and_summary(mixed, tmp_path):
    generator = untrained_generator()
    one = protect_path(generator, mixed, tmp_path / "one", batch_size=4, processes=1)
    two = protect_path(generator, mixed, tmp_path / "two", batch_size=4, processes=2)
    assert two.written == one.written == 3 * len(GOOD) and two.resumed == 0
    assert two.skipped == one.skipped and [rel for rel, _ in two.skipped] == ["k0/corrupt.png"]
    assert sorted(two.warnings) == sorted(one.warnings) and two.warnings
    hashes = _relative(file_hashes(tmp_path / "two"), tmp_path / "two")
    assert MANIFEST_NAME in hashes and hashes == _relative(file_hashes(tmp_path / "one"), tmp_path / "one")
    again = protect_path(generator, mixed, tmp_path / "two", batch_size=4, processes=2)
    assert (again.written, again.resumed) == (0, 3 * len(GOOD))


def _inputs(tmp_path, count=12):
    for index in range(count):
        save_image(tmp_path / "in" / f"{index:02d}.png", random_pixels())
    return tmp_path / "in"


def _left(out):
    """The visible outputs and any temporary file left in OUTPUT."""
    return sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME)


def test_an_error_in_a_worker_keeps_what_was_finished_and_a_rerun_completes(tmp_path):
    source, out = _inputs(tmp_path), tmp_path / "out"
    # batch_size 1 and crash_on 4: each worker's fourth image fails; the images before it are written.
    with pytest.raises(RuntimeError, match="simulated crash"):
        protect_path(AddNoise(crash_on=4), source, out, batch_size=1, processes=2)
    written = _left(out)
    assert 0 < len(written) < 12 and all(name.endswith(".png") and not name.startswith(".") for name in written)
    summary = protect_path(AddNoise(), source, out, batch_size=1, processes=2)
    assert (summary.resumed, summary.written) == (len(written), 12 - len(written))


class DiesInWorker(AddNoise):
    """Test double: the worker process that protects its second batch exits at once, as if killed."""

    def _noise(self, x, labels):
        if len(self.batches) == 1 and os.getpid() != self.owner:
            os._exit(9)
        return super()._noise(x, labels)


def test_a_worker_that_dies_stops_the_job_with_a_worker_error_and_a_rerun_resumes(tmp_path):
    source, out = _inputs(tmp_path), tmp_path / "out"
    dies = DiesInWorker()
    dies.owner = os.getpid()
    with pytest.raises(WorkerError, match="run the same command again to resume"):
        protect_path(dies, source, out, batch_size=1, processes=2)
    summary = protect_path(AddNoise(), source, out, batch_size=1, processes=2)
    assert summary.resumed + summary.written == 12 and not [n for n in _left(out) if n.startswith(".")]


def test_workers_need_a_cpu_protection_and_one_file_runs_here(tmp_path):
    on_gpu = AddNoise()
    on_gpu.device = torch.device("cuda")             # only where it computes is looked at
    with pytest.raises(ConfigurationError, match="--workers 1"):
        protect_path(on_gpu, _inputs(tmp_path), tmp_path / "out", processes=2)
    assert default_processes(on_gpu) == 1 and default_processes(AddNoise()) == (os.cpu_count() or 1)
    counted = AddNoise()
    save_image(tmp_path / "single" / "a.png", random_pixels())
    protect_path(counted, tmp_path / "single", tmp_path / "one", processes=2)
    assert counted.batches == [(1, 3, 6, 5)]         # protected in this process: no worker for one file


def test_shards_keep_every_worker_busy_to_the_end():
    assert shard_size(8, 2) == 1 and shard_size(2000, 2) == 125 and shard_size(10 ** 6, 2) == 128


RUN_COMMITTING_OFTEN = """
import sys
import imageprivacy.protections.unlearnable.output_writer as writer
writer.COMMIT_SECONDS = 0.0          # commit after every outcome, so a stop lands between commits
from imageprivacy.cli import main
sys.exit(main(["protect", "--batch-size", "2", "--workers", "2", "--generator", *sys.argv[1:]]))
"""


def _started_writing(child, out):
    """Wait until the job has committed its first outputs (or ended)."""
    started = time.monotonic()
    while child.poll() is None and not any(out.glob("*.png")) and time.monotonic() - started < 60:
        time.sleep(0.01)


def _processes_naming(text):
    """PIDs of the processes whose command line holds `text` (a forked worker keeps its parent's)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            pass                      # it ended meanwhile
    return found


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """400 small images, a saved generator and one uninterrupted run's outputs."""
    root = tmp_path_factory.mktemp("many")
    for index in range(400):
        save_image(root / "in" / f"{index:03d}.png", random_pixels(8, 8))
    generator = saved_generator(root / "g.safetensors")
    protect_path(load_protection(generator), root / "in", root / "clean", batch_size=2, processes=1,
                 checkpoint_sha256=file_sha256(generator))
    return root / "in", generator, _relative(file_hashes(root / "clean"), root / "clean")


@pytest.mark.parametrize("stop", ["ctrl-c", "kill -9"])
def test_a_stopped_job_leaves_no_worker_and_a_rerun_ends_with_the_same_files(many, tmp_path, stop):
    source, generator, clean = many
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", RUN_COMMITTING_OFTEN, str(generator), str(source), str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    _started_writing(child, out)
    if stop == "ctrl-c":
        os.killpg(child.pid, signal.SIGINT)            # what a terminal sends to the whole group
        assert child.wait(timeout=60) in (130, 0), child.stderr.read()[-2000:]   # 0: it had finished
    else:
        child.kill()                                   # the job's process alone
        assert child.wait(timeout=60) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while _processes_naming(str(out)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_naming(str(out)), "a worker outlived its job"
    _wait_for_output_lock(out, deadline)
    again = protect_path(load_protection(generator), source, out, batch_size=2, processes=2,
                         checkpoint_sha256=file_sha256(generator))
    assert again.written + again.resumed == 400 and again.resumed > 0
    assert _relative(file_hashes(out), out) == clean          # the manifest included; no temporary file left
