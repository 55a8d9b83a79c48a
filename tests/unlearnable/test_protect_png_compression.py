"""`protect --png-compression`: the level reaches the files, never changes pixels, and the manifest keeps track of it."""
import io
import json

import numpy as np
import pytest
from PIL import Image

from imageprivacy.cli import main
from imageprivacy.data.image_files import read_image
from imageprivacy.protections.unlearnable.output_manifest import MANIFEST_NAME
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from unlearnable.protect_doubles import AddNoise, save_image, saved_generator


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return saved_generator(tmp_path_factory.mktemp("gen") / "g.safetensors")


def _smooth_inputs(root, names="abc"):
    """Gradients: what zlib compresses well, so the levels give files of clearly different sizes."""
    ramp = np.arange(32, dtype=np.uint8) * 4
    for shift, name in enumerate(names):
        save_image(root / f"{name}.png", np.stack([np.add.outer(ramp, ramp + shift)] * 3, axis=-1))
    return root


def _records(out):
    return json.loads((out / MANIFEST_NAME).read_text())["outputs"]


def _pixels(folder):
    return {path.name: read_image(path).pixels for path in sorted(folder.glob("*.png"))}


def _bytes(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.png"))}


@pytest.mark.parametrize("level", ["10", "-1"])
def test_a_level_out_of_range_is_one_line_and_2_before_any_work(generator, tmp_path, capsys, level):
    _smooth_inputs(tmp_path / "in")
    code = main(["protect", "--generator", str(generator), "--png-compression", level,
                 str(tmp_path / "in"), str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("imageprivacy protect: error: PNG compression level")
    assert "0 (none" in err[0] and level in err[0] and not (tmp_path / "out").exists()


def test_the_flag_reaches_the_files_and_their_records(generator, tmp_path, capsys):
    inputs = _smooth_inputs(tmp_path / "in")
    for level in ("0", "9"):
        assert main(["protect", "--generator", str(generator), "--png-compression", level,
                     str(inputs), str(tmp_path / level)]) == 0
    stored, smallest = tmp_path / "0", tmp_path / "9"
    assert all((stored / name).stat().st_size > (smallest / name).stat().st_size for name in _bytes(stored))
    stored_pixels, smallest_pixels = _pixels(stored), _pixels(smallest)
    assert all(np.array_equal(stored_pixels[name], smallest_pixels[name]) for name in stored_pixels)
    assert {r["png_compression"] for r in _records(stored).values()} == {0}
    assert {r["png_compression"] for r in _records(smallest).values()} == {9}


def test_a_changed_level_redoes_every_output_with_the_same_pixels(tmp_path):
    inputs, out = _smooth_inputs(tmp_path / "in"), tmp_path / "out"
    assert protect_path(AddNoise(), inputs, out, png_compression=6).written == 3
    before_bytes, before_pixels = _bytes(out), _pixels(out)
    same = protect_path(AddNoise(), inputs, out, png_compression=6)
    assert (same.written, same.resumed) == (0, 3)
    changed = protect_path(AddNoise(), inputs, out, png_compression=1)
    # Redone, not refused as files this tool did not write, and not kept at a level the records do not name.
    assert (changed.written, changed.resumed, changed.ok) == (3, 0, True)
    after_pixels = _pixels(out)
    assert all(_bytes(out)[name] != before_bytes[name] for name in before_bytes)
    assert all(np.array_equal(after_pixels[name], before_pixels[name]) for name in before_pixels)
    records = _records(out)
    assert all(r["png_compression"] == 1 and not r.get("replaces") for r in records.values())
    assert protect_path(AddNoise(), inputs, out, png_compression=1).resumed == 3


def test_a_manifest_without_the_level_stands_for_pillows_default_6(tmp_path):
    """What the package wrote before the level was recorded: Pillow's default, zlib's 6."""
    inputs, out = _smooth_inputs(tmp_path / "in"), tmp_path / "out"
    protect_path(AddNoise(), inputs, out, png_compression=6)
    with Image.open(out / "a.png") as image:
        pillow_default = io.BytesIO()
        image.save(pillow_default, format="PNG")                  # no compress_level: as the old code saved
    assert pillow_default.getvalue() == (out / "a.png").read_bytes()
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    for record in manifest["outputs"].values():
        del record["png_compression"]
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    old = protect_path(AddNoise(), inputs, out, png_compression=6)
    assert (old.written, old.resumed) == (0, 3)
    default = protect_path(AddNoise(), inputs, out)                 # the new default, 1: redone, not refused
    assert (default.written, default.resumed, default.ok) == (3, 0, True)
    assert all(r["png_compression"] == 1 for r in _records(out).values())
