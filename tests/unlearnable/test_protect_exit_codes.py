"""`imageprivacy protect` as a script sees it: exit codes 0-3, one line per error, what runs, the rate."""
import json
import os
from types import SimpleNamespace

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from imageprivacy.cli import main
from imageprivacy.cli.unlearnable.protect_command import describe, rate
from imageprivacy.protections.unlearnable import output_writer
from imageprivacy.protections.unlearnable.protect_folder import ProtectSummary
from imageprivacy.protections.unlearnable.protection_identity import file_sha256
from unlearnable.protect_doubles import random_pixels, save_image, saved_generator


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return saved_generator(tmp_path_factory.mktemp("gen") / "g.safetensors")


@pytest.fixture
def photos(tmp_path):
    save_image(tmp_path / "in" / "a.png", random_pixels())
    save_image(tmp_path / "in" / "b" / "c.jpg", random_pixels(), quality=90)
    return tmp_path / "in"


def _protect(generator, *paths):
    return main(["protect", "--generator", str(generator), *map(str, paths)])


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("imageprivacy protect: error:") and "Traceback" not in err[0]
    return err[0]


def test_all_protected_is_0_and_the_start_line_names_method_epsilon_and_hash(photos, generator, tmp_path, capsys):
    assert _protect(generator, photos, tmp_path / "out") == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    # The default amplitude 0.875 writes 7 of 8/255's levels (nets/generator.py).
    assert first == f"protecting with confoundergan (mixture), epsilon 8/255 (its patterns write 7/255), " \
                    f"checkpoint sha256 {file_sha256(generator)[:12]}"
    assert "2 written" in out and "0.0 images/s" not in out
    assert _protect(generator, photos, tmp_path / "out") == 0 and "2 already done" in capsys.readouterr().out


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["protect", "--help"])
    text = capsys.readouterr().out
    assert all(f"\n  {code}  " in text for code in "0123") and "--overwrite" in text


def test_a_slow_rate_is_shown_as_seconds_per_image():
    assert rate(ProtectSummary(output=None, written=1, protect_seconds=40.0)) == "; 40.0 s/image"
    assert rate(ProtectSummary(output=None, written=50, protect_seconds=2.0)) == "; 25.0 images/s"
    assert rate(ProtectSummary(output=None)) == ""


def test_usage_errors_are_2(photos, generator, tmp_path, capsys):
    save_image(photos / "a.jpg", random_pixels(), quality=90)                  # a.jpg and a.png -> a.png
    assert _protect(generator, photos, tmp_path / "out") == 2
    assert "a.jpg" in _one_line_error(capsys)
    assert _protect(generator, photos, photos / "out") == 2


@pytest.mark.parametrize("case", ["under-a-file", "existing-file", "existing-jpg", "file-beside-folder"])
def test_outputs_that_cannot_exist_are_3_before_any_work(photos, generator, tmp_path, capsys, case):
    (tmp_path / "f.txt").write_text("a regular file")
    source, output = photos, tmp_path / "f.txt" / "out"
    if case == "existing-file":
        output = tmp_path / "f.txt"
    elif case == "existing-jpg":
        save_image(tmp_path / "old.jpg", random_pixels(), quality=90)
        source, output = photos / "a.png", tmp_path / "old.jpg"
    elif case == "file-beside-folder":
        save_image(photos / "x.jpg", random_pixels(), quality=90)
        save_image(photos / "x.png" / "y.png", random_pixels())
        output = tmp_path / "out"
    assert _protect(generator, source, output) == 3
    _one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def test_a_read_only_output_is_3(photos, generator, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o555)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("running as root: a read-only mode does not block writing here")
        assert _protect(generator, photos, out) == 3
    finally:
        os.chmod(out, 0o755)
    assert "writable" in _one_line_error(capsys)


def test_a_write_that_fails_is_3_even_as_root(photos, generator, tmp_path, capsys, monkeypatch):
    """Root writes into a read-only folder, so the test above skips here: the same failure, from mkstemp."""
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(output_writer.tempfile, "mkstemp", refuse)
    assert _protect(generator, photos, tmp_path / "out") == 3
    line = _one_line_error(capsys)
    assert "Permission denied" in line and "writable" in line


def _edited(generator, tmp_path, edit):
    with safe_open(str(generator), framework="pt") as handle:
        meta = dict(handle.metadata())
    config = json.loads(meta["config"])
    edit(config)
    path = tmp_path / "edited.safetensors"
    save_file(load_file(str(generator)), str(path), metadata={**meta, "config": json.dumps(config)})
    return path


@pytest.mark.parametrize("field, value", [("cell_size", 0), ("view_size", 0), ("pattern_cells", -1),
                                          ("width", 0), ("temperature", 0.0), ("kind", "magic"),
                                          ("epsilon", 1.5)])
def test_a_checkpoint_with_a_field_out_of_range_is_2(photos, generator, tmp_path, capsys, field, value):
    def edit(config):
        config["options"]["config"]["generator"][field] = value
        if field == "epsilon":
            config["options"]["epsilon"] = value
    assert _protect(_edited(generator, tmp_path, edit), photos, tmp_path / "out") == 2
    assert field in _one_line_error(capsys) and not (tmp_path / "out").exists()


def test_a_generator_whose_epsilon_disagrees_with_the_recorded_one_is_refused(photos, generator, tmp_path, capsys):
    def edit(config):
        config["options"]["config"]["generator"]["epsilon"] = 0.9
    assert _protect(_edited(generator, tmp_path, edit), photos, tmp_path / "out") == 2
    assert "recorded epsilon" in _one_line_error(capsys)


def test_an_edited_but_consistent_epsilon_is_printed_before_anything_is_written(photos, generator, tmp_path, capsys):
    def edit(config):
        config["options"]["epsilon"] = config["options"]["config"]["generator"]["epsilon"] = 0.9
    assert _protect(_edited(generator, tmp_path, edit), photos, tmp_path / "out") == 0
    assert "epsilon 229.5/255" in capsys.readouterr().out.splitlines()[0]


def test_file_names_that_are_not_utf8_are_protected_and_printed(tmp_path, generator, capsys):
    (tmp_path / "in").mkdir()
    save_image(tmp_path / "in" / "ok.png", random_pixels())
    folder = os.fsencode(tmp_path / "in")
    os.rename(tmp_path / "in" / "ok.png", os.path.join(folder, b"\xfe.png"))
    with open(os.path.join(folder, b"bad\xff.jpg"), "wb") as handle:
        handle.write(b"not a jpeg")
    assert _protect(generator, tmp_path / "in", tmp_path / "out") == 1
    printed = capsys.readouterr().out
    assert "bad\\xff.jpg: not an image" in printed and "1 written" in printed
    assert os.path.exists(os.path.join(os.fsencode(tmp_path / "out"), b"\xfe.png"))
    assert _protect(generator, tmp_path / "in", tmp_path / "out") == 1 and "1 already done" in capsys.readouterr().out


def test_the_ray_engine_without_ray_says_how_to_install_it_and_is_2(photos, generator, tmp_path, monkeypatch, capsys):
    import imageprivacy.protections.unlearnable.ray_engine as ray_engine

    monkeypatch.setattr(ray_engine, "ray_installed", lambda: False)
    assert main(["protect", "--engine", "ray", "--generator", str(generator), str(photos), str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [ray_engine.RAY_HINT]
    assert not (tmp_path / "o").exists()


def test_ray_options_without_the_ray_engine_are_2(photos, generator, tmp_path, capsys):
    assert _protect(generator, "--address", "auto", photos, tmp_path / "o") == 2
    assert "--engine ray" in _one_line_error(capsys) and not (tmp_path / "o").exists()


def test_workers_below_one_are_2(photos, generator, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:          # argparse's own check (_positive_int)
        _protect(generator, "--workers", "0", photos, tmp_path / "o")
    assert stop.value.code == 2 and not (tmp_path / "o").exists()


def test_the_start_line_gives_the_levels_the_patterns_write_as_the_rounding_writes_them():
    def mixture(epsilon, amplitude):
        config = SimpleNamespace(generator=SimpleNamespace(amplitude=amplitude))
        return SimpleNamespace(name="confoundergan", kind="mixture", epsilon=epsilon, config=config)
    # 0.875 x 10 levels = 8.75: a pixel moves by 9 whole levels, within the budget of 10.
    assert "epsilon 10/255 (its patterns write 9/255)" in describe(mixture(10 / 255, 0.875), "ab" * 32)
    assert "patterns write" not in describe(mixture(16 / 255, 1.0), "ab" * 32)
