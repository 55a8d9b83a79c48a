"""Property test of `protect`: seeded random folders, a kill at a random point, a re-run, and what must hold.

Each seed builds INPUT from mixed files (formats, modes, 16-bit, transparency, animations, odd names,
nested folders) and broken entries (garbage, empty and truncated files, dangling links, link loops,
FIFOs, HEIC without its plugin), sometimes with a file of the user's already in OUTPUT. The first run
is killed at a random step: in-process, every step after the kill raises (a dead process does
nothing more); or, for a few seeds, a real SIGKILL of a `protect` subprocess. Then, after a re-run:
- every good input is protected within the budget (frame 0 of an animation), every bad one is listed;
- no file outside OUTPUT changed (the user's file in OUTPUT neither);
- the manifest agrees with OUTPUT: each visible output is recorded with its hash, no temporary file is left;
- a third run redoes nothing.
"""
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import PurePosixPath

import numpy as np
import pytest
from PIL import Image

import imageprivacy.protections.unlearnable.file_steps as file_steps
import imageprivacy.protections.unlearnable.protect_folder as protect_folder
from imageprivacy.data.image_files import read_image
from imageprivacy.data.image_formats import IMAGE_SUFFIXES
from imageprivacy.protections import load_protection
from imageprivacy.protections.pixel_budget import budget_in_levels
from imageprivacy.protections.unlearnable import output_writer
from imageprivacy.protections.unlearnable.output_manifest import MANIFEST_NAME
from imageprivacy.protections.unlearnable.protection_identity import file_sha256
from unlearnable.protect_doubles import EPS, saved_generator, untrained_generator

GOOD = ["png-L", "png-RGB", "png-RGBA", "png-LA", "png-P", "png-P-trns", "png-L-trns", "png-RGB-trns", "png-16",
        "png-16-trns", "jpg", "jfif", "bmp", "gif", "gif-anim", "tif-pages", "webp"]
BAD = ["garbage", "empty", "truncated", "dangling", "fifo", "heic", "loop"]
SUFFIX = {"jpg": ".jpg", "jfif": ".jfif", "bmp": ".bmp", "gif": ".gif", "gif-anim": ".gif", "tif-pages": ".tif",
          "webp": ".webp", "garbage": ".png", "empty": ".jpg", "truncated": ".png", "dangling": ".png",
          "fifo": ".png", "heic": ".heic", "loop": ""}
NAME_CHARS = list("abcXYZ_-. 0é日")


class SimulatedKill(BaseException):
    """Not an Exception: nothing in the job may catch it, as nothing catches SIGKILL."""


def _name(rng, taken):
    while True:
        name = "".join(rng.choice(NAME_CHARS, rng.integers(1, 8))).strip()
        if name and not name.startswith(".") and name.casefold() not in taken:
            taken.add(name.casefold())
            return name


def write_every_kind(root, count, folders, rng):
    """`count` files cycling through every GOOD kind, in class folders k0 .. k<folders-1>, under `root`."""
    for index in range(count):
        kind = GOOD[index % len(GOOD)]
        path = root / f"k{index % folders}" / f"{index:04d}-{kind}{SUFFIX.get(kind, '.png')}"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, kind, rng)


def _write(path, kind, rng):
    h, w = int(rng.integers(1, 24)), int(rng.integers(1, 24))
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    gray = rgb[..., 0].copy()
    if kind.startswith("png-16"):
        values = rng.integers(0, 65536, (h, w), dtype=np.uint16)
        Image.fromarray(values).save(path, **({"transparency": int(values[0, 0])} if "trns" in kind else {}))
    elif kind in ("png-L", "png-L-trns"):
        Image.fromarray(gray).save(path, **({"transparency": int(gray[0, 0])} if "trns" in kind else {}))
    elif kind == "png-RGB-trns":
        Image.fromarray(rgb).save(path, transparency=tuple(int(v) for v in rgb[0, 0]))
    elif kind in ("png-RGBA", "png-LA"):
        channels = 4 if kind == "png-RGBA" else 2
        Image.fromarray(rng.integers(0, 256, (h, w, channels), dtype=np.uint8), mode=kind[4:]).save(path)
    elif kind.startswith("png-P"):
        image = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=6)
        image.save(path, **({"transparency": 0} if "trns" in kind else {}))
    elif kind in ("png-RGB", "bmp", "gif", "webp"):
        Image.fromarray(rgb).save(path, **({"lossless": True} if kind == "webp" else {}))
    elif kind in ("jpg", "jfif"):
        Image.fromarray(rgb if rng.random() < 0.5 else gray).save(path, format="JPEG", quality=90)
    elif kind in ("gif-anim", "tif-pages"):
        frames = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for _ in range(3)]
        frames[0].save(path, save_all=True, append_images=frames[1:])
    elif kind == "garbage":
        path.write_bytes(rng.integers(0, 256, 64, dtype=np.uint8).tobytes())
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        Image.fromarray(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)).save(path)
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "dangling":
        path.symlink_to(path.parent / "no such file.png")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "heic":
        path.write_bytes(b"\0\0\0\x18ftypheic" + bytes(16))
    elif kind == "loop":
        path.symlink_to(path.parent)


def random_folder(root, rng):
    """INPUT for one seed: {relative path: kind}; stems are unique per folder (two inputs never share an output)."""
    folders, entries, taken = [""], {}, {}
    for _ in range(int(rng.integers(1, 4))):
        parent = folders[int(rng.integers(0, len(folders)))]
        child = _name(rng, taken.setdefault(parent, set()))
        folders.append(f"{parent}/{child}" if parent else child)
    for _ in range(int(rng.integers(6, 16))):
        kind = (GOOD + BAD)[int(rng.integers(0, len(GOOD) + len(BAD)))]
        if kind == "heic" and ".heic" in IMAGE_SUFFIXES:      # the plugin is installed: HEIC would be read
            kind = "garbage"
        folder = folders[int(rng.integers(0, len(folders)))]
        rel = (f"{folder}/" if folder else "") + _name(rng, taken.setdefault(folder, set())) + SUFFIX.get(kind, ".png")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        _write(root / rel, kind, rng)
        entries[rel] = kind
    return entries


def snapshot(top, skip):
    """Everything under `top` but `skip`: type, and content hash or link target."""
    seen = {}
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) != str(skip)]
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                seen[path] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                seen[path] = ("file", hashlib.sha256(open(path, "rb").read()).hexdigest(), stat.S_IMODE(info.st_mode))
            else:
                seen[path] = (stat.S_IFMT(info.st_mode),)
    return seen


def _target(rel):
    return PurePosixPath(rel).with_suffix(".png").as_posix()        # as output_plan.py names outputs


def check_protected(source, output):
    original, written = read_image(source, keep_16_bit=True), read_image(output, keep_16_bit=True)
    assert written.pixels.shape == original.pixels.shape and written.bit_depth == original.bit_depth, output
    limit = budget_in_levels(EPS, 65535 if original.bit_depth == 16 else 255)
    assert (written.pixels.long() - original.pixels.long()).abs().max() <= limit, output
    assert (written.alpha is None) == (original.alpha is None) and written.transparent_color == \
        original.transparent_color, output
    if original.alpha is not None:
        assert bool((written.alpha == original.alpha).all()), output


def check_invariants(root, out, entries, foreign, summary):
    listed = {rel for rel, _ in summary.skipped}
    for rel, kind in entries.items():
        target = out / _target(rel)
        if kind in GOOD and rel not in foreign:
            assert rel not in listed, (rel, summary.skipped)
            check_protected(root / rel, target)
        else:
            assert rel in listed, (rel, kind, summary.skipped)
    records = json.loads((out / MANIFEST_NAME).read_text())["outputs"]
    on_disk = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert not [p for p in out.rglob(".*") if p.name != MANIFEST_NAME], "temporary files left"
    for rel, path in on_disk.items():
        if rel in foreign.values():
            continue
        assert records[rel]["output_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), rel
        assert not records[rel].get("replaces"), rel
    assert set(records) <= set(on_disk), "a record without its output"


def _prepare(tmp_path, seed):
    rng = np.random.default_rng(seed)
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    entries = random_folder(root, rng)
    foreign = {}
    good = [rel for rel, kind in entries.items() if kind in GOOD]
    if good and rng.random() < 0.4:                     # the user's own file where an output would go
        rel = good[int(rng.integers(0, len(good)))]
        (out / _target(rel)).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((3, 3), 7, np.uint8)).save(out / _target(rel))
        foreign[rel] = _target(rel)
    return rng, root, out, entries, foreign


def _rerun_and_check(tmp_path, root, out, entries, foreign, protection, before, checkpoint_sha256=None):
    summary = protect_folder.protect_path(protection, root, out, batch_size=3, checkpoint_sha256=checkpoint_sha256)
    check_invariants(root, out, entries, foreign, summary)
    after = snapshot(tmp_path, out)
    assert after == before, "a file outside OUTPUT changed"
    again = protect_folder.protect_path(protection, root, out, batch_size=3, checkpoint_sha256=checkpoint_sha256)
    assert again.written == 0 and again.skipped == summary.skipped
    return summary


@pytest.mark.parametrize("seed", range(12))
def test_killed_at_a_random_step_then_rerun(tmp_path, seed, monkeypatch):
    rng, root, out, entries, foreign = _prepare(tmp_path, seed)
    protection = untrained_generator(channels=3)
    before = snapshot(tmp_path, out)
    foreign_bytes = {rel: (out / target).read_bytes() for rel, target in foreign.items()}
    monkeypatch.setattr(output_writer, "COMMIT_SECONDS", 0.0)       # commit every batch
    steps, kill_at = [0], int(rng.integers(1, 2 * len(entries) + 1))   # a run takes ~2 steps an input

    def step(real):
        def wrapped(*args, **kwargs):
            steps[0] += 1
            if steps[0] >= kill_at:
                raise SimulatedKill(f"killed at step {kill_at}")
            return real(*args, **kwargs)
        return wrapped
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", step(os.replace))
        patch.setattr(file_steps, "read_source", step(file_steps.read_source))
        patch.setattr(protection, "protect", step(protection.protect))
        try:
            protect_folder.protect_path(protection, root, out, batch_size=3)
        except SimulatedKill:
            pass
    _rerun_and_check(tmp_path, root, out, entries, foreign, protection, before)
    assert all((out / foreign[rel]).read_bytes() == data for rel, data in foreign_bytes.items())


KILLED_RUN = """
import sys
import imageprivacy.protections.unlearnable.output_writer as writer
writer.COMMIT_SECONDS = 0.0          # commit every batch, so a kill lands between commits too
from imageprivacy.cli import main
sys.exit(main(["protect", "--batch-size", "2", "--generator", *sys.argv[1:]]))
"""


@pytest.mark.parametrize("seed", [100, 101])
def test_a_real_sigkill_then_rerun(tmp_path, seed):
    rng, root, out, entries, foreign = _prepare(tmp_path, seed)
    generator = saved_generator(tmp_path / "g.safetensors")
    before = snapshot(tmp_path, out)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(generator), str(root), str(out)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    while child.poll() is None and not (out / MANIFEST_NAME).exists() and time.monotonic() - started < 60:
        time.sleep(0.005)                         # the job has started writing: kill it soon after
    time.sleep(float(rng.uniform(0, 0.3)))
    child.kill()
    print("protect exited with", child.wait())          # -9: killed; 0 or 1: it had finished
    summary = _rerun_and_check(tmp_path, root, out, entries, foreign, load_protection(generator), before,
                               checkpoint_sha256=file_sha256(generator))
    assert summary.written + summary.resumed == len([k for r, k in entries.items() if k in GOOD and r not in foreign])
