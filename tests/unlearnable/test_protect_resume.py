"""Resume by manifest: what counts as done, what is redone, what is refused; crashes; permissions; the lock."""
import json
import os
import stat

import numpy as np
import pytest

from imageprivacy.data.image_files import read_image
from imageprivacy.errors import OutputError
from imageprivacy.protections.pixel_budget import budget_in_levels
from imageprivacy.protections.unlearnable import output_writer
from imageprivacy.protections.unlearnable.output_manifest import MANIFEST_NAME
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from unlearnable.protect_doubles import EPS, AddNoise, file_hashes, random_pixels, save_image


def _manifest(out):
    return json.loads((out / MANIFEST_NAME).read_text())["outputs"]


def _level(path):
    return read_image(path).pixels.int()


def test_a_png_the_tool_did_not_write_is_refused_and_kept(tmp_path):
    """The issue's first breakage: an existing out/x.png of the right size used to count as done."""
    save_image(tmp_path / "in" / "x.jpg", np.zeros((6, 5, 3), np.uint8), quality=95)
    save_image(tmp_path / "out" / "x.png", np.full((6, 5, 3), 255, np.uint8))
    before = (tmp_path / "out" / "x.png").read_bytes()
    summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    assert (summary.written, summary.resumed, summary.ok) == (0, 0, False)
    assert summary.skipped[0][0] == "x.jpg" and "did not write" in summary.skipped[0][1]
    assert (tmp_path / "out" / "x.png").read_bytes() == before
    assert protect_path(AddNoise(), tmp_path / "in", tmp_path / "out", overwrite_outputs=True).written == 1
    assert _level(tmp_path / "out" / "x.png").max() <= budget_in_levels(EPS)


def test_protecting_into_the_inputs_own_folder_never_replaces_the_users_png(tmp_path):
    save_image(tmp_path / "s" / "other.jpg", random_pixels(), quality=95)
    save_image(tmp_path / "s" / "other.png", random_pixels(9, 9))          # the user's, another size
    before = file_hashes(tmp_path / "s")
    summary = protect_path(AddNoise(), tmp_path / "s" / "other.jpg", tmp_path / "s")
    assert summary.written == 0 and "did not write" in summary.skipped[0][1]
    after = file_hashes(tmp_path / "s")
    assert {p: h for p, h in after.items() if p.name != MANIFEST_NAME} == before


def test_resume_keeps_only_outputs_that_match_source_and_protection(tmp_path):
    for name in "abc":
        save_image(tmp_path / "in" / f"{name}.png", random_pixels())
    out = tmp_path / "out"
    assert protect_path(AddNoise(), tmp_path / "in", out).written == 3
    again = protect_path(AddNoise(), tmp_path / "in", out)
    assert (again.written, again.resumed, again.ok) == (0, 3, True)
    save_image(tmp_path / "in" / "b.png", random_pixels())                  # the source changed
    changed = protect_path(AddNoise(), tmp_path / "in", out)
    assert (changed.written, changed.resumed) == (1, 2)
    original = read_image(tmp_path / "in" / "b.png").pixels.int()
    assert (_level(out / "b.png") - original).abs().max() <= budget_in_levels(EPS)
    tighter = protect_path(AddNoise(epsilon=4 / 255), tmp_path / "in", out)   # another epsilon: all redone
    assert (tighter.written, tighter.resumed) == (3, 0)
    assert (_level(out / "a.png") - read_image(tmp_path / "in" / "a.png").pixels.int()).abs().max() == 4
    records = _manifest(out)
    assert sorted(records) == ["a.png", "b.png", "c.png"]
    assert all(r["protection"]["epsilon"] == 4 / 255 and not r.get("replaces") for r in records.values())


def test_an_output_changed_after_writing_is_refused(tmp_path):
    save_image(tmp_path / "in" / "a.png", random_pixels())
    out = tmp_path / "out"
    protect_path(AddNoise(), tmp_path / "in", out)
    save_image(out / "a.png", random_pixels())                               # edited by someone else
    summary = protect_path(AddNoise(), tmp_path / "in", out)
    assert summary.written == 0 and "changed since" in summary.skipped[0][1]


def test_a_crash_between_manifest_and_move_is_redone_not_refused(tmp_path, monkeypatch):
    """The manifest names the new hash before the move; the old output (its hash kept in `replaces`) is redone."""
    save_image(tmp_path / "in" / "a.png", random_pixels())
    save_image(tmp_path / "in" / "b.png", random_pixels())
    out = tmp_path / "out"
    protect_path(AddNoise(), tmp_path / "in", out)
    moved = []

    def crash_after_one(src, dst):
        if dst.name.endswith(".png") and [p for p in moved if p.name.endswith(".png")]:
            raise KeyboardInterrupt          # one output moved: the kill arrives before the next
        moved.append(dst)
        os.rename(src, dst)
    monkeypatch.setattr(output_writer.os, "replace", crash_after_one)
    with pytest.raises(KeyboardInterrupt):
        protect_path(AddNoise(epsilon=4 / 255), tmp_path / "in", out)
    monkeypatch.undo()
    assert not [p for p in out.iterdir() if p.name.endswith(".imageprivacy-tmp")]
    summary = protect_path(AddNoise(epsilon=4 / 255), tmp_path / "in", out)
    assert [p.name for p in moved] == [MANIFEST_NAME, MANIFEST_NAME, "a.png"]   # at the start, then the commit
    assert (summary.ok, summary.written, summary.resumed) == (True, 1, 1)


def test_temporary_files_of_a_killed_run_are_removed(tmp_path):
    save_image(tmp_path / "in" / "sub" / "a.png", random_pixels())
    leftover = tmp_path / "out" / "sub" / ".a.png.k3j2h1.imageprivacy-tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a png")
    (tmp_path / "out" / "sub" / ".users-own-file").write_bytes(b"kept")
    assert protect_path(AddNoise(), tmp_path / "in", tmp_path / "out").written == 1
    assert not leftover.exists() and (tmp_path / "out" / "sub" / ".users-own-file").exists()


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_outputs_and_manifest_get_the_permissions_the_umask_gives(tmp_path, umask):
    save_image(tmp_path / "in" / "a.png", random_pixels())
    old = os.umask(umask)
    try:
        protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    finally:
        os.umask(old)
    for path in (tmp_path / "out" / "a.png", tmp_path / "out" / MANIFEST_NAME):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_an_unreadable_manifest_stops_before_any_work(tmp_path):
    save_image(tmp_path / "in" / "a.png", random_pixels())
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(OutputError, match="manifest"):
        protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out" / "a.png").exists()


def test_a_second_job_into_the_same_output_is_refused(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    save_image(tmp_path / "in" / "a.png", random_pixels())
    (tmp_path / "out").mkdir()
    handle = os.open(tmp_path / "out", os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(OutputError, match="another imageprivacy protect"):
            protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    finally:
        os.close(handle)
    assert protect_path(AddNoise(), tmp_path / "in", tmp_path / "out").written == 1
