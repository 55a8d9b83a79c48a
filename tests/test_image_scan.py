"""The folder walk behind `protect`: every odd entry is listed with its reason, none is opened, none aborts."""
import os
import signal
import socket

import numpy as np
import pytest
from PIL import Image

from imageprivacy.data.image_files import read_image
from imageprivacy.data.image_formats import IMAGE_SUFFIXES
from imageprivacy.data.image_scan import scan_images
from imageprivacy.errors import CorruptImageError


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(path)


def _scan(root):
    scan = scan_images(root)
    return [rel for _, rel in scan.files], dict(scan.problems)


@pytest.fixture
def no_hang():
    """Fail instead of hanging forever if a FIFO is ever opened for reading."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("a FIFO was opened: the walk hangs"))
    signal.alarm(20)
    yield
    signal.alarm(0)


def test_files_are_sorted_and_hidden_entries_skipped(tmp_path):
    for rel in ("b.png", "a/z.png", "a/c.png", ".hidden.png", ".git/x.png", "notes.txt"):
        _png(tmp_path / rel) if rel.endswith(".png") else (tmp_path / rel).write_text("x")
    assert _scan(tmp_path) == (["a/c.png", "a/z.png", "b.png"], {})


def test_dangling_links_and_link_loops_are_listed(tmp_path):
    _png(tmp_path / "ok.png")
    (tmp_path / "gone.png").symlink_to(tmp_path / "nowhere.png")
    (tmp_path / "loop1.png").symlink_to(tmp_path / "loop2.png")
    (tmp_path / "loop2.png").symlink_to(tmp_path / "loop1.png")
    files, problems = _scan(tmp_path)
    assert files == ["ok.png"]
    assert "dangling" in problems["gone.png"] and "loop" in problems["loop1.png"] and "loop" in problems["loop2.png"]


def test_symlinked_folders_are_followed_once_and_loops_detected(tmp_path):
    outside = tmp_path / "outside"
    _png(outside / "o.png")
    root = tmp_path / "in"
    _png(root / "real" / "r.png")
    (root / "link").symlink_to(outside)
    (root / "again").symlink_to(outside)
    (root / "alias").symlink_to(root / "real")        # sorts before real/: real is still the one walked
    (root / "real" / "up").symlink_to(root)
    (root / "real" / "self").symlink_to(root / "real")
    files, problems = _scan(root)
    assert files == ["again/o.png", "real/r.png"]
    assert "already walked (again)" in problems["link"] and "already walked (real)" in problems["alias"]
    assert "loop" in problems["real/up"] and "loop" in problems["real/self"]


def test_a_link_to_a_folder_above_input_is_a_loop_not_a_walk_of_the_disk(tmp_path):
    root = tmp_path / "in"
    _png(root / "a.png")
    _png(tmp_path / "sibling" / "s.png")
    (root / "parent").symlink_to(tmp_path)
    files, problems = _scan(root)
    assert files == ["a.png"] and "loop" in problems["parent"]


def test_fifos_and_sockets_are_listed_and_never_opened(tmp_path, no_hang):
    _png(tmp_path / "ok.png")
    os.mkfifo(tmp_path / "p.png")
    os.mkfifo(tmp_path / "pipe")                       # no image name: not an input at all
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "s.jpg"))
    try:
        files, problems = _scan(tmp_path)
    finally:
        server.close()
    assert files == ["ok.png"] and sorted(problems) == ["p.png", "s.jpg"]
    assert "FIFO" in problems["p.png"] and "socket" in problems["s.jpg"]
    with pytest.raises(CorruptImageError, match="FIFO"):   # and the reader refuses it without blocking
        read_image(tmp_path / "p.png")


def test_unsupported_formats_are_listed_with_what_to_do(tmp_path):
    for name in ("photo.heic", "photo2.HEIF", "scan.jxl", "raw.dng"):
        (tmp_path / name).write_bytes(b"\0" * 16)
    files, problems = _scan(tmp_path)
    assert "JPEG XL" in problems["scan.jxl"] and "raw files" in problems["raw.dng"]
    if ".heic" in IMAGE_SUFFIXES:                     # the optional plugin is installed: HEIC is read
        assert files == ["photo.heic", "photo2.HEIF"]
    else:
        assert files == [] and all("pip install 'imageprivacy[heif]'" in problems[name]
                                   for name in ("photo.heic", "photo2.HEIF"))


def test_jfif_is_jpeg(tmp_path):
    Image.fromarray(np.full((4, 4, 3), 90, np.uint8)).save(tmp_path / "x.jfif", format="JPEG")
    assert _scan(tmp_path)[0] == ["x.jfif"] and read_image(tmp_path / "x.jfif").pixels.shape == (3, 4, 4)


def test_an_unreadable_folder_is_listed(tmp_path):
    _png(tmp_path / "closed" / "a.png")
    _png(tmp_path / "open.png")
    os.chmod(tmp_path / "closed", 0)
    try:
        if os.access(tmp_path / "closed", os.R_OK):
            pytest.skip("running as root: chmod 0 does not block reading here")
        files, problems = _scan(tmp_path)
    finally:
        os.chmod(tmp_path / "closed", 0o755)
    assert files == ["open.png"] and "not readable" in problems["closed"]


def test_a_folder_that_cannot_be_listed_is_listed_even_as_root(tmp_path, monkeypatch):
    """Root reads any folder, so the test above skips here: the same failure, raised by scandir itself."""
    import imageprivacy.data.image_scan as image_scan

    _png(tmp_path / "closed" / "a.png")
    _png(tmp_path / "open.png")
    real = os.scandir

    def scandir(path):
        if str(path).endswith("closed"):
            raise PermissionError(13, "Permission denied")
        return real(path)
    monkeypatch.setattr(image_scan.os, "scandir", scandir)
    files, problems = _scan(tmp_path)
    assert files == ["open.png"] and "Permission denied" in problems["closed"]
