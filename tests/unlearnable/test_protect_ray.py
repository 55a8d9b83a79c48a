"""`imageprivacy protect --engine ray` on a local Ray of 2 CPUs: the local engine's outputs, byte for byte, and resume.

A few hundred small images of mixed sizes, modes and formats (the property test's kinds) and a
corrupt file are protected by both engines through the command line; the outputs and the manifests
are the same files, and so are the exit code and the printed summary. A Ray run killed (SIGKILL)
half-way, after its first commits, and run again resumes what was committed and ends with the same
files. Marked `ray` (scripts/test.sh runs them third): each run starts a local Ray, ~10-20 s here.
"""
import hashlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from imageprivacy.protections.unlearnable.output_manifest import MANIFEST_NAME
from unlearnable.protect_doubles import saved_generator
from unlearnable.test_protect_property import write_every_kind

pytest.importorskip("ray", reason="the optional extra imageprivacy[ray] is not installed")
pytestmark = pytest.mark.ray

IMAGES = 300
CORRUPT = "broken/corrupt.png"


def _tree_hashes(folder):
    """relative path -> sha256 of every file under folder, the hidden manifest included."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _summary_lines(printed, output):
    """What the command printed, less the timing and the output's own path."""
    return [line for line in printed.splitlines() if " in " not in line.split(";")[0] and str(output) not in line]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray") / "in"
    write_every_kind(root, IMAGES, 5, np.random.default_rng(7))
    (root / CORRUPT).parent.mkdir()
    (root / CORRUPT).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    return root, saved_generator(root.parent / "g.safetensors")


@pytest.fixture(scope="module")
def local_run(inputs, tmp_path_factory):
    """The local engine's outputs, exit code and printed summary: what Ray must give."""
    root, generator = inputs
    out = tmp_path_factory.mktemp("local") / "out"
    printed = subprocess.run([sys.executable, "-m", "imageprivacy", "protect", "--generator", str(generator),
                              str(root), str(out)], capture_output=True, text=True)
    return out, printed.returncode, _summary_lines(printed.stdout, out)


def _ray_command(generator, root, out, *more):
    return [sys.executable, "-m", "imageprivacy", "protect", "--engine", "ray", "--workers", "2",
            "--generator", str(generator), *more, str(root), str(out)]


def test_ray_gives_the_local_engines_outputs_summary_and_exit_code(inputs, local_run, tmp_path):
    root, generator = inputs
    local_out, local_code, local_lines = local_run
    out = tmp_path / "out"
    done = subprocess.run(_ray_command(generator, root, out), capture_output=True, text=True)
    assert local_code == done.returncode == 1, done.stderr[-2000:]     # 1: the corrupt file is listed
    assert f"{IMAGES} written, 0 already done (resumed), 1 not protected" in done.stdout
    assert CORRUPT in done.stdout and _summary_lines(done.stdout, out) == local_lines
    hashes = _tree_hashes(out)
    assert MANIFEST_NAME in hashes and len(hashes) == IMAGES + 1
    assert hashes == _tree_hashes(local_out)
    assert "Traceback" not in done.stderr and " E " not in done.stderr


KILLED_RUN = """
import sys
import imageprivacy.protections.unlearnable.output_writer as writer
writer.COMMIT_SECONDS = 0.0          # commit after every outcome, so the kill lands between commits
from imageprivacy.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_ray_run_resumes_and_ends_with_the_same_outputs(inputs, local_run, tmp_path):
    root, generator = inputs
    out = tmp_path / "out"
    command = _ray_command(generator, root, out, "--batch-size", "8")
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN, *command[3:]], stdout=subprocess.DEVNULL,
                             stderr=open(tmp_path / "killed.err", "w"))
    started = time.monotonic()
    while child.poll() is None and time.monotonic() - started < 150 and not any(out.rglob("*.png")):
        time.sleep(0.02)
    child.kill()                  # the driver alone, as `kill -9`: the local Ray it started goes with it
    assert child.wait() == -signal.SIGKILL, (tmp_path / "killed.err").read_text()[-3000:]
    written_before = len(list(out.rglob("*.png")))     # every output on disk was committed first
    assert 0 < written_before < IMAGES
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr[-2000:]
    counts = next(line for line in done.stdout.splitlines() if " written, " in line)
    written, resumed = int(counts.split()[0]), int(counts.split(", ")[1].split()[0])
    assert resumed == written_before and written == IMAGES - written_before, counts
    assert _tree_hashes(out) == _tree_hashes(local_run[0])
    assert not [p for p in out.rglob(".*") if p.name != MANIFEST_NAME], "temporary files left"
