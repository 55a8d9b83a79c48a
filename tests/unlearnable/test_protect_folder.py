"""Protecting files and folders: paths, modes, budget, batching, bad files, resume, crashes, the CLI."""
import argparse

import numpy as np
import pytest
import torch
from PIL import Image

from imageprivacy.cli.unlearnable import protect_command
from imageprivacy.data.image_files import read_image
from imageprivacy.protections.pixel_budget import budget_in_levels
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from unlearnable.protect_doubles import EPS, RNG, AddNoise, file_hashes, random_pixels, save_image, visible_outputs


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    save_image(root / "gray.png", random_pixels(c=1))
    save_image(root / "a" / "b" / "cat.jpg", random_pixels(8, 7), quality=95)
    save_image(root / "a" / "rgba.png", RNG.integers(0, 256, (6, 5, 4), dtype=np.uint8))
    save_image(root / "a" / "pal.gif", random_pixels(), mode="P")
    save_image(root / "deep16.png", np.full((3, 4), 40000, dtype=np.uint16))
    save_image(root / "big.bmp", random_pixels(12, 20))
    return root


def test_folder_keeps_paths_modes_sizes_alpha_and_budget(photos, tmp_path):
    before = file_hashes(photos)
    out = tmp_path / "out"
    events = []
    summary = protect_path(AddNoise(), photos, out, progress=lambda e, v: events.append((e, v)))
    assert (summary.written, summary.resumed, summary.skipped, summary.ok) == (6, 0, [], True)
    assert events[0] == ("start", {"total": 6}) and all(v["status"] == "written" for _, v in events[1:])
    expected_modes = {"gray.png": "L", "a/b/cat.png": "RGB", "a/rgba.png": "RGBA", "a/pal.png": "RGB",
                      "deep16.png": "I;16", "big.png": "RGB"}
    assert visible_outputs(out) == sorted(expected_modes)
    for rel, mode in expected_modes.items():
        source = next(photos.glob(rel.rsplit(".", 1)[0] + ".*"))
        original, protected = read_image(source, keep_16_bit=True), read_image(out / rel, keep_16_bit=True)
        with Image.open(out / rel) as written:
            assert written.format == "PNG" and written.mode == mode and written.size == original.size
        change = protected.pixels.int() - original.pixels.int()
        top = 65535 if mode == "I;16" else 255
        assert change.abs().max() <= budget_in_levels(EPS, top) and change.abs().max() > 0
        if original.alpha is not None:
            assert torch.equal(protected.alpha, original.alpha)
    assert file_hashes(photos) == before                        # originals unchanged byte for byte
    assert summary.images_per_second > 0 and summary.seconds >= summary.protect_seconds


def test_same_shapes_are_batched_and_big_images_run_alone(tmp_path):
    for i in range(7):
        save_image(tmp_path / "in" / f"s{i}.png", random_pixels(4, 4))
    for i in range(2):
        save_image(tmp_path / "in" / f"t{i}.png", random_pixels(3, 9))
    protection = AddNoise()                  # one process: the batches are counted here
    summary = protect_path(protection, tmp_path / "in", tmp_path / "out", batch_size=3, processes=1)
    assert summary.written == 9
    assert sorted(protection.batches) == sorted([(3, 3, 4, 4)] * 2 + [(1, 3, 4, 4), (2, 3, 3, 9)])


def test_channel_policy(tmp_path):
    gray, rgb = random_pixels(c=1), random_pixels()
    save_image(tmp_path / "in" / "gray.png", gray)
    save_image(tmp_path / "in" / "rgb.png", rgb)
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
        save_image(tmp_path / "in" / f"{i}.png", random_pixels())
    with pytest.raises(RuntimeError, match="simulated crash"):
        protect_path(AddNoise(crash_on=3), tmp_path / "in", tmp_path / "out", batch_size=1, processes=1)
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert left == [".imageprivacy-manifest.json", "0.png", "1.png"]     # no temporary or half-written file
    summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out", batch_size=1)
    assert (summary.resumed, summary.written) == (2, 3)


def test_a_protection_exceeding_the_budget_is_caught_before_writing(tmp_path):
    class OverBudget(AddNoise):
        def protect(self, images, labels=None):
            return images + 2 * budget_in_levels(EPS)
    save_image(tmp_path / "in" / "a.png", random_pixels())
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


@pytest.mark.parametrize("other", ["x.jpg", "X.PNG"])
def test_two_inputs_for_one_output_are_refused_before_any_work(tmp_path, other):
    from imageprivacy.errors import ConfigurationError

    save_image(tmp_path / "in" / "x.png", random_pixels(c=1))
    save_image(tmp_path / "in" / other, random_pixels(c=1), **({"quality": 95} if other.endswith("jpg") else {}))
    with pytest.raises(ConfigurationError, match=rf"{other}.*x\.png|x\.png.*{other}"):
        protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_single_file_input(tmp_path):
    save_image(tmp_path / "cat.jpg", random_pixels(), quality=95)
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
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.safetensors").write_bytes(b"a stand-in: load_protection is replaced")
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
        save_image(tmp_path / "in" / name / "x" / "img.png", np.full((4, 4, 3), 100, dtype=np.uint8))
    summary = protect_path(ClassSign(), tmp_path / "in", tmp_path / "out", batch_size=8)
    assert summary.written == 2
    level = budget_in_levels(EPS)
    assert (read_image(tmp_path / "out/up/x/img.png").pixels == 100 + level).all()
    assert (read_image(tmp_path / "out/down/x/img.png").pixels == 100 - level).all()


@pytest.mark.parametrize("rel", ["loose.png", "sideways/img.png"])
def test_files_without_a_known_class_folder_are_refused_before_any_work(tmp_path, rel):
    from imageprivacy.errors import MissingLabelsError

    save_image(tmp_path / "in" / "up" / "ok.png", np.full((4, 4, 3), 100, dtype=np.uint8))
    save_image(tmp_path / "in" / rel, np.full((4, 4, 3), 100, dtype=np.uint8))
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
        save_image(tmp_path / "in" / name / "img.png", np.full((4, 4, 3), 100, dtype=np.uint8))
    level = budget_in_levels(EPS)
    protect_path(OptionalClassSign(), tmp_path / "in", tmp_path / "free", batch_size=8)
    assert (read_image(tmp_path / "free/down/img.png").pixels == 100 + level).all()     # no labels asked for
    protect_path(OptionalClassSign(), tmp_path / "in", tmp_path / "aware", batch_size=8, use_folder_labels=True)
    assert (read_image(tmp_path / "aware/down/img.png").pixels == 100 - level).all()


def test_reader_and_writer_threads_change_no_byte_of_outputs_or_manifest(tmp_path):
    """file_pipeline.py: inputs reach the batcher in order, so any number of threads writes the same files."""
    for i in range(40):
        h, w = (4, 4) if i % 3 else (5, 3 + i % 4)
        save_image(tmp_path / "in" / f"d{i % 4}" / f"{i}.png", random_pixels(h, w, c=1 + 2 * (i % 2)))
    (tmp_path / "in" / "bad.png").write_bytes(b"not an image")
    runs = {}
    for threads in (1, 4):
        protection = AddNoise()
        summary = protect_path(protection, tmp_path / "in", tmp_path / f"out{threads}", batch_size=3, threads=threads)
        runs[threads] = (file_hashes(tmp_path / f"out{threads}"), protection.batches, summary.skipped, summary.written)
    one, four = runs[1], runs[4]
    assert [p.relative_to(tmp_path / "out1") for p in one[0]] == [p.relative_to(tmp_path / "out4") for p in four[0]]
    assert list(one[0].values()) == list(four[0].values()) and one[1:] == four[1:] and one[3] == 40
