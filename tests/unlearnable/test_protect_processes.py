"""The local engine in forked worker processes (process_engine.py): one process's outputs, byte for byte, and its
error rules. Linux only (elsewhere the job runs in one process and these tests are skipped)."""
import os
import sys

import numpy as np
import pytest
import torch

from imageprivacy.errors import ConfigurationError, WorkerError
from imageprivacy.protections.unlearnable.output_manifest import MANIFEST_NAME
from imageprivacy.protections.unlearnable.process_engine import default_processes, shard_size
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from unlearnable.protect_doubles import AddNoise, file_hashes, random_pixels, save_image, untrained_generator
from unlearnable.test_protect_property import GOOD, _write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes are forked on Linux only")


def _relative(hashes, root):
    return {path.relative_to(root).as_posix(): digest for path, digest in hashes.items()}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Every kind of file protect takes, in two class folders, and a corrupt one."""
    root = tmp_path_factory.mktemp("mixed") / "in"
    rng = np.random.default_rng(3)
    for index in range(3 * len(GOOD)):
        kind = GOOD[index % len(GOOD)]
        suffix = {"jpg": ".jpg", "jfif": ".jfif", "bmp": ".bmp", "gif": ".gif", "gif-anim": ".gif",
                  "tif-pages": ".tif", "webp": ".webp"}.get(kind, ".png")
        path = root / f"k{index % 2}" / f"{index:03d}-{kind}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, kind, rng)
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
