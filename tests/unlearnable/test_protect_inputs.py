"""Odd inputs reach `protect`: each is protected or listed (exit 1), none aborts the run, none is opened blindly."""
import os
import signal

import numpy as np
import pytest
from PIL import Image

from imageprivacy.cli import main
from imageprivacy.data.image_formats import IMAGE_SUFFIXES
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from unlearnable.protect_doubles import AddNoise, file_hashes, random_pixels, save_image, saved_generator, \
    visible_outputs


@pytest.fixture
def generator(tmp_path_factory):
    return saved_generator(tmp_path_factory.mktemp("gen") / "g.safetensors")


@pytest.fixture
def no_hang():
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("protect hangs (an input was opened blindly)"))
    signal.alarm(30)
    yield
    signal.alarm(0)


def test_broken_entries_are_listed_and_the_rest_protected(tmp_path, no_hang):
    root = tmp_path / "in"
    save_image(root / "ok.png", random_pixels())
    (root / "gone.png").symlink_to(root / "missing.png")
    (root / "loop.png").symlink_to(root / "loop.png")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root)
    os.mkfifo(root / "p.png")
    summary = protect_path(AddNoise(), root, tmp_path / "out")
    assert summary.written == 1 and not summary.ok
    assert [rel for rel, _ in summary.skipped] == ["gone.png", "loop.png", "p.png", "sub/up"]
    assert visible_outputs(tmp_path / "out") == ["ok.png"]


def test_a_fifo_as_the_single_input_is_listed(tmp_path, no_hang):
    os.mkfifo(tmp_path / "p.png")
    summary = protect_path(AddNoise(), tmp_path / "p.png", tmp_path / "out")
    assert summary.written == 0 and "FIFO" in summary.skipped[0][1]


def test_symlinked_folders_are_protected_at_the_link_path(tmp_path):
    save_image(tmp_path / "elsewhere" / "e.png", random_pixels())
    save_image(tmp_path / "in" / "a.png", random_pixels())
    (tmp_path / "in" / "linked").symlink_to(tmp_path / "elsewhere")
    summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    assert summary.ok and visible_outputs(tmp_path / "out") == ["a.png", "linked/e.png"]


def test_unreadable_files_are_listed(tmp_path):
    save_image(tmp_path / "in" / "a.png", random_pixels())
    save_image(tmp_path / "in" / "closed.png", random_pixels())
    os.chmod(tmp_path / "in" / "closed.png", 0)
    try:
        if os.access(tmp_path / "in" / "closed.png", os.R_OK):
            pytest.skip("running as root: chmod 0 does not block reading here")
        summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    finally:
        os.chmod(tmp_path / "in" / "closed.png", 0o644)
    assert summary.written == 1 and "Permission" in dict(summary.skipped)["closed.png"]


def test_a_folder_of_only_heic_photos_is_not_reported_as_empty(tmp_path, generator, capsys):
    if ".heic" in IMAGE_SUFFIXES:
        pytest.skip("the HEIF plugin is installed here: HEIC photos are read")
    for name in ("a.heic", "b.HEIC"):
        (tmp_path / "in" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_bytes(b"\0\0\0\x18ftypheic")
    assert main(["protect", "--generator", str(generator), str(tmp_path / "in"), str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    assert "a.heic" in printed and "b.HEIC" in printed and "pip install 'imageprivacy[heif]'" in printed


def test_avif_is_protected_when_this_pillow_reads_it(tmp_path):
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF codec")
    Image.fromarray(random_pixels(8, 8)).save(tmp_path / "in.avif", quality=90)
    summary = protect_path(AddNoise(), tmp_path / "in.avif", tmp_path / "out")
    assert summary.ok and visible_outputs(tmp_path / "out") == ["in.png"]


@pytest.mark.parametrize("name, extra", [("anim.gif", {"save_all": True}), ("pages.tif", {"save_all": True}),
                                         ("anim.webp", {"save_all": True, "lossless": True})])
def test_extra_frames_are_named_as_not_protected(tmp_path, name, extra):
    frames = [Image.fromarray(np.full((6, 5, 3), 40 * k + 20, np.uint8)) for k in range(3)]
    (tmp_path / "in").mkdir()
    frames[0].save(tmp_path / "in" / name, append_images=frames[1:], **extra)
    summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    assert summary.written == 1 and not summary.ok and not summary.skipped
    assert summary.warnings == [(name, "2 extra frame(s) not protected: only the first was written")]
    resumed = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")        # a re-run says it again
    assert resumed.resumed == 1 and resumed.warnings == summary.warnings


def test_nothing_is_written_through_odd_places_in_output(tmp_path):
    for rel in ("a/x.png", "b/y.png", "z.png"):
        save_image(tmp_path / "in" / rel, random_pixels())
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "a").write_text("a file where a folder would go")
    (out / "b").symlink_to(elsewhere)
    (out / "z.png").mkdir()
    summary = protect_path(AddNoise(), tmp_path / "in", out, overwrite_outputs=True)
    reasons = dict(summary.skipped)
    assert summary.written == 0 and sorted(reasons) == ["a/x.png", "b/y.png", "z.png"]
    assert "is a file" in reasons["a/x.png"] and "symlink out of OUTPUT" in reasons["b/y.png"]
    assert "is a folder" in reasons["z.png"] and not any(elsewhere.iterdir())


def test_the_input_folder_is_never_changed(tmp_path):
    root = tmp_path / "in"
    save_image(root / "a.png", random_pixels())
    save_image(root / "b.jpg", random_pixels(), quality=90)
    (root / "link.png").symlink_to(root / "a.png")
    before = file_hashes(root)
    protect_path(AddNoise(), root, tmp_path / "out")
    assert file_hashes(root) == before and sorted(p.name for p in root.iterdir()) == ["a.png", "b.jpg", "link.png"]


def test_heic_is_protected_with_the_heif_extra(tmp_path):
    pytest.importorskip("pillow_heif", reason="the optional extra imageprivacy[heif] is not installed")
    (tmp_path / "in").mkdir()
    Image.fromarray(random_pixels(16, 16)).save(tmp_path / "in" / "phone.heic", quality=95)
    summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    assert summary.ok and visible_outputs(tmp_path / "out") == ["phone.png"]
