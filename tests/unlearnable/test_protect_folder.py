"""Protecting files and folders: paths, modes, budget, batching, bad files, resume, crashes, the CLI."""
import argparse
import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

from imageprivacy.cli.unlearnable import protect_command
from imageprivacy.data.image_files import read_image
from imageprivacy.protections.base import Protection
from imageprivacy.protections.pixel_budget import budget_in_levels
from imageprivacy.protections.unlearnable.protect_folder import protect_path

EPS = 8 / 255
RNG = np.random.default_rng(1)


class AddNoise(Protection):
    """Test double: adds `signs[c] * epsilon` to channel c; raises on the `crash_on`-th batch."""

    name = "test-add-noise"
    needs_labels_to_fit = False

    def __init__(self, channels=3, signs=(1, 1, 1), crash_on=None):
        super().__init__(epsilon=EPS)
        self.fitted, self.channels, self.signs, self.crash_on = True, channels, signs, crash_on
        self.batches = []

    def _noise(self, x, labels):
        self.batches.append(tuple(x.shape))
        if len(self.batches) == self.crash_on:
            raise RuntimeError("simulated crash")
        signs = torch.tensor(self.signs[: x.shape[1]], dtype=x.dtype).view(1, -1, 1, 1)
        return self.epsilon * signs.expand_as(x)


def _save(path, array, mode=None, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path, **kwargs)


def _images(h=6, w=5, c=3):
    return RNG.integers(20, 230, (h, w, c) if c > 1 else (h, w), dtype=np.uint8)


def _hashes(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    _save(root / "gray.png", _images(c=1))
    _save(root / "a" / "b" / "cat.jpg", _images(8, 7), quality=95)
    _save(root / "a" / "rgba.png", RNG.integers(0, 256, (6, 5, 4), dtype=np.uint8))
    _save(root / "a" / "pal.gif", _images(), mode="P")
    _save(root / "deep16.png", np.full((3, 4), 40000, dtype=np.uint16))
    _save(root / "big.bmp", _images(12, 20))
    return root


def test_folder_keeps_paths_modes_sizes_alpha_and_budget(photos, tmp_path):
    before = _hashes(photos)
    out = tmp_path / "out"
    events = []
    summary = protect_path(AddNoise(), photos, out, progress=lambda e, v: events.append((e, v)))
    assert (summary.written, summary.resumed, summary.skipped, summary.ok) == (6, 0, [], True)
    assert events[0] == ("start", {"total": 6}) and all(v["status"] == "written" for _, v in events[1:])
    expected_modes = {"gray.png": "L", "a/b/cat.png": "RGB", "a/rgba.png": "RGBA", "a/pal.png": "RGB",
                      "deep16.png": "L", "big.png": "RGB"}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if p.is_file()) == sorted(expected_modes)
    for rel, mode in expected_modes.items():
        source = next(photos.glob(rel.rsplit(".", 1)[0] + ".*"))
        original, protected = read_image(source), read_image(out / rel)
        with Image.open(out / rel) as written:
            assert written.format == "PNG" and written.mode == mode and written.size == original.size
        change = protected.pixels.int() - original.pixels.int()
        assert change.abs().max() <= budget_in_levels(EPS) and change.abs().max() > 0
        if original.alpha is not None:
            assert torch.equal(protected.alpha, original.alpha)
    assert _hashes(photos) == before                        # originals unchanged byte for byte
    assert summary.images_per_second > 0 and summary.seconds >= summary.protect_seconds


def test_same_shapes_are_batched_and_big_images_run_alone(tmp_path):
    for i in range(7):
        _save(tmp_path / "in" / f"s{i}.png", _images(4, 4))
    for i in range(2):
        _save(tmp_path / "in" / f"t{i}.png", _images(3, 9))
    protection = AddNoise()
    summary = protect_path(protection, tmp_path / "in", tmp_path / "out", batch_size=3)
    assert summary.written == 9
    assert sorted(protection.batches) == sorted([(3, 3, 4, 4)] * 2 + [(1, 3, 4, 4), (2, 3, 3, 9)])


def test_channel_policy(tmp_path):
    gray, rgb = _images(c=1), _images()
    _save(tmp_path / "in" / "gray.png", gray)
    _save(tmp_path / "in" / "rgb.png", rgb)
    e = budget_in_levels(EPS)
    protect_path(AddNoise(channels=3, signs=(1, 1, -1)), tmp_path / "in", tmp_path / "o3")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o3" / "gray.png")), gray + round(e / 3))
    protect_path(AddNoise(channels=1), tmp_path / "in", tmp_path / "o1")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o1" / "rgb.png")), rgb + e)


def test_bad_files_are_skipped_with_reasons(photos, tmp_path):
    (photos / "a" / "noise.png").write_bytes(RNG.integers(0, 256, 200, dtype=np.uint8).tobytes())
    (photos / "empty.jpg").write_bytes(b"")
    summary = protect_path(AddNoise(), photos, tmp_path / "out")
    assert summary.written == 6 and not summary.ok
    assert [rel for rel, _ in summary.skipped] == ["a/noise.png", "empty.jpg"]
    assert all(reason for _, reason in summary.skipped)


def test_resume_and_overwrite(photos, tmp_path):
    out = tmp_path / "out"
    protect_path(AddNoise(), photos, out)
    (out / "a" / "rgba.png").unlink()
    summary = protect_path(AddNoise(), photos, out)
    assert (summary.resumed, summary.written) == (5, 1)
    assert protect_path(AddNoise(), photos, out, overwrite_outputs=True).written == 6


def test_crash_leaves_no_partial_png_and_rerun_completes(tmp_path):
    for i in range(5):
        _save(tmp_path / "in" / f"{i}.png", _images())
    with pytest.raises(RuntimeError, match="simulated crash"):
        protect_path(AddNoise(crash_on=3), tmp_path / "in", tmp_path / "out", batch_size=1)
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert left == ["0.png", "1.png"]                       # no temporary or half-written file
    summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out", batch_size=1)
    assert (summary.resumed, summary.written) == (2, 3)


def test_a_protection_exceeding_the_budget_is_caught_before_writing(tmp_path):
    class OverBudget(AddNoise):
        def protect(self, images, labels=None):
            return images + 2 * budget_in_levels(EPS)
    _save(tmp_path / "in" / "a.png", _images())
    with pytest.raises(RuntimeError, match="budget"):
        protect_path(OverBudget(), tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out" / "a.png").exists()


def test_refuses_to_touch_originals(photos, tmp_path):
    with pytest.raises(ValueError, match="inside INPUT"):
        protect_path(AddNoise(), photos, photos / "protected")
    with pytest.raises(ValueError, match="is INPUT"):
        protect_path(AddNoise(), photos, photos)
    with pytest.raises(ValueError, match="never overwritten"):   # photos/gray.png -> photos/gray.png
        protect_path(AddNoise(), photos / "gray.png", photos)
    assert not (photos / "protected").exists()


def test_name_collision_gets_a_distinct_name(tmp_path):
    png, jpg = _images(c=1), _images(c=1)
    _save(tmp_path / "in" / "x.png", png)
    _save(tmp_path / "in" / "x.jpg", jpg, quality=95)
    assert protect_path(AddNoise(), tmp_path / "in", tmp_path / "out").written == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.jpg.png", "x.png"]
    from_png = np.asarray(Image.open(tmp_path / "out" / "x.png")).astype(int)
    assert np.abs(from_png - png).max() <= budget_in_levels(EPS)


def test_single_file_input(tmp_path):
    _save(tmp_path / "cat.jpg", _images(), quality=95)
    protect_path(AddNoise(), tmp_path / "cat.jpg", tmp_path / "named.png")
    protect_path(AddNoise(), tmp_path / "cat.jpg", tmp_path / "folder")
    assert (tmp_path / "named.png").is_file() and (tmp_path / "folder" / "cat.png").is_file()
    with pytest.raises(ValueError, match="PNG"):
        protect_path(AddNoise(), tmp_path / "cat.jpg", tmp_path / "out.jpg")


def _cli_args(*argv):
    parser = argparse.ArgumentParser()
    protect_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["protect", *map(str, argv)])


def test_cli_reports_skipped_files_and_the_jpeg_warning(photos, tmp_path, monkeypatch, capsys):
    import imageprivacy.protections.checkpoint as checkpoint
    monkeypatch.setattr(checkpoint, "load_protection", lambda path, device="cpu": AddNoise())
    (photos / "broken.png").write_bytes(b"not an image")
    assert protect_command.run(_cli_args(photos, tmp_path / "out", "--generator", "g.safetensors")) == 1
    printed = capsys.readouterr().out
    assert "broken.png" in printed and protect_command.JPEG_WARNING in printed and "images/s" in printed
    (photos / "broken.png").unlink()
    assert protect_command.run(_cli_args(photos, tmp_path / "out", "--generator", "g.safetensors")) == 0
    assert protect_command.run(_cli_args(photos, photos / "out", "--generator", "g.safetensors")) == 2
    assert protect_command.run(_cli_args(tmp_path / "nothing", tmp_path / "o", "--generator", "g")) == 2


class ClassSign(AddNoise):
    """Test double that chooses its noise by class: +epsilon for class 0, -epsilon for class 1."""

    needs_labels_to_protect = True

    def __init__(self):
        super().__init__()
        self.class_names, self.num_classes = ["up", "down"], 2

    def _noise(self, x, labels):
        return self.epsilon * (1 - 2 * labels.float()).view(-1, 1, 1, 1).expand_as(x)


def test_class_folders_give_the_labels(tmp_path):
    for name in ("up", "down"):
        _save(tmp_path / "in" / name / "x" / "img.png", np.full((4, 4, 3), 100, dtype=np.uint8))
    summary = protect_path(ClassSign(), tmp_path / "in", tmp_path / "out", batch_size=8)
    assert summary.written == 2
    level = budget_in_levels(EPS)
    assert (read_image(tmp_path / "out/up/x/img.png").pixels == 100 + level).all()
    assert (read_image(tmp_path / "out/down/x/img.png").pixels == 100 - level).all()


@pytest.mark.parametrize("rel", ["loose.png", "sideways/img.png"])
def test_files_without_a_known_class_folder_are_refused_before_any_work(tmp_path, rel):
    from imageprivacy.errors import MissingLabelsError

    _save(tmp_path / "in" / "up" / "ok.png", np.full((4, 4, 3), 100, dtype=np.uint8))
    _save(tmp_path / "in" / rel, np.full((4, 4, 3), 100, dtype=np.uint8))
    with pytest.raises(MissingLabelsError, match=rel.split("/")[0]):
        protect_path(ClassSign(), tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.png"))


class OptionalClassSign(ClassSign):
    """Like ClassSign, but works without labels too (as ConfounderGAN's label-free path): then +epsilon."""

    needs_labels_to_protect = False

    def _noise(self, x, labels):
        return super()._noise(x, torch.zeros(len(x), dtype=torch.long) if labels is None else labels)


def test_labels_from_folders_reach_a_method_that_can_do_without(tmp_path):
    for name in ("up", "down"):
        _save(tmp_path / "in" / name / "img.png", np.full((4, 4, 3), 100, dtype=np.uint8))
    level = budget_in_levels(EPS)
    protect_path(OptionalClassSign(), tmp_path / "in", tmp_path / "free", batch_size=8)
    assert (read_image(tmp_path / "free/down/img.png").pixels == 100 + level).all()     # no labels asked for
    protect_path(OptionalClassSign(), tmp_path / "in", tmp_path / "aware", batch_size=8, use_folder_labels=True)
    assert (read_image(tmp_path / "aware/down/img.png").pixels == 100 - level).all()
