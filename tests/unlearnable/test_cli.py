"""The CLI in-process: train-generator -> protect -> evaluate on a tiny class-subfolder tree; exit codes."""
import json

import numpy as np
import pytest
from PIL import Image

from conftest import make_imageset, write_image_folder
from imageprivacy.cli import main
from imageprivacy.protections import load_protection


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A 3-class gray 16x16 image folder (8 images per class), trained once into a generator."""
    root = tmp_path_factory.mktemp("cli")
    data = write_image_folder(make_imageset(n=24, classes=3, seed=5), root / "data")
    generator = root / "gen" / "g.safetensors"
    # The generator keeps its default width 32 and f is a ResNet-18 (width 2 here): the flags' defaults.
    code = main(["train-generator", str(data), "--out", str(generator), "--epochs", "1", "--f-epochs", "1",
                 "--f-width", "2", "--kind", "direct", "--seed", "0", "--quiet"])
    assert code == 0
    return root, data, generator


def _gray(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.int16)


def test_train_generator_writes_a_checkpoint(workspace, capsys):
    _, _, generator = workspace
    assert generator.is_file()
    loaded = load_protection(generator)
    assert loaded.kind == "direct" and loaded.channels == 1 and loaded.config.generator.num_classes == 3
    assert loaded.epsilon == pytest.approx(16 / 255)          # the default for gray images
    assert loaded.config.epochs == 1 and loaded.config.f_width == 2
    assert loaded.config.generator.width == 32 and loaded.config.f_arch == "resnet18"


@pytest.mark.parametrize("patterns, line", [
    ([], "patterns: anti-template (each class's mean image taken away), template match"),
    (["--patterns", "drawn"], "patterns: the least aligned of 64 draws, template match")])
def test_train_generator_reports_consistency_for_mixture(tmp_path, workspace, capsys, patterns, line):
    _, data, _ = workspace
    out = tmp_path / "m.safetensors"
    assert main(["train-generator", str(data), "--out", str(out), "--epochs", "1", "--f-epochs", "1",
                 "--f-width", "2", "--epsilon", "8/255", "--train-size", "12", "--quiet", *patterns]) == 0
    printed = capsys.readouterr().out
    assert "label consistency on the training images" in printed and "on 12 images" in printed
    assert line in printed
    assert f"generator: {out}" in printed
    assert load_protection(out).epsilon == pytest.approx(8 / 255)


def test_protect_then_evaluate(workspace, tmp_path, capsys):
    _, data, generator = workspace
    protected = tmp_path / "protected"
    assert main(["protect", "--generator", str(generator), str(data), str(protected)]) == 0
    assert "24 written" in capsys.readouterr().out
    inputs = sorted(p.relative_to(data) for p in data.rglob("*.png"))
    assert sorted(p.relative_to(protected) for p in protected.rglob("*.png")) == inputs
    changes = [np.abs(_gray(protected / rel) - _gray(data / rel)).max() for rel in inputs]
    assert max(changes) <= 16 and max(changes) > 0

    # A re-run resumes: nothing is written again.
    assert main(["protect", "--generator", str(generator), str(data), str(protected)]) == 0
    assert "0 written, 24 already done" in capsys.readouterr().out

    results = tmp_path / "eval.json"
    assert main(["evaluate", "--train", str(protected), "--test", str(data), "--recipe", "linear",
                 "--epochs", "2", "--out", str(results), "--quiet"]) == 0
    assert "clean test accuracy per epoch" in capsys.readouterr().out
    result = json.loads(results.read_text())
    assert len(result["test_acc"]) == 2 and result["final_test_acc"] == result["test_acc"][-1]
    assert result["train_size"] == 24 and result["recipe"]["arch"] == "linear"
    assert result["best_test_acc"] == max(result["test_acc"])


@pytest.mark.parametrize("argv, message", [
    (["protect", "--generator", "{tmp}/missing.safetensors", "{data}", "{tmp}/out"], "no protection file at"),
    (["protect", "--generator", "{gen}", "{tmp}/no-such-input", "{tmp}/out"], "does not exist"),
    (["protect", "--generator", "{gen}", "{data}", "{data}/inside"], "error"),
    (["train-generator", "{tmp}/no-such-folder", "--out", "{tmp}/g.safetensors"], "unknown data set"),
    (["evaluate", "--train", "{data}", "--test", "{tmp}/no-such-folder"], "no-such-folder"),
])
def test_typed_errors_exit_2(argv, message, workspace, tmp_path, capsys):
    _, data, generator = workspace
    argv = [a.format(tmp=tmp_path, data=data, gen=generator) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.startswith(f"imageprivacy {argv[0]}: error:")
    assert not (tmp_path / "out").exists() and not (tmp_path / "g.safetensors").exists()


@pytest.mark.parametrize("argv, message", [
    (["train-generator", "x", "--out", "g.safetensors", "--epsilon", "2/0"], "not a budget"),
    (["train-generator", "x", "--out", "g.safetensors", "--epsilon", "-3"], "budget must be in (0, 1]"),
    (["train-generator", "x"], "--out"),
    (["evaluate", "--train", "a", "--test", "b", "--recipe", "resnet"], "invalid choice"),
    (["protect", "in", "out", "--generator", "g", "--batch-size", "0"], "must be >= 1"),
    (["no-such-verb"], "invalid choice"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("method,options", [("classwise", ["block=2"]), ("cwp", []),
                                            ("emn", ["mode=classwise", "surrogate_width=2", "max_rounds=1"])])
def test_fit_then_protect_with_a_class_wise_method(workspace, tmp_path, method, options, capsys):
    _, data, _ = workspace
    ckpt = tmp_path / f"{method}.safetensors"
    argv = ["fit", method, str(data), "--out", str(ckpt), "--epsilon", "8/255", "--quiet"]
    assert main(argv + [arg for o in options for arg in ("--option", o)]) == 0
    assert load_protection(ckpt).class_names == ["class0", "class1", "class2"]
    assert main(["protect", "--checkpoint", str(ckpt), str(data), str(tmp_path / "out")]) == 0
    written = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.png"))
    assert written == sorted(p.relative_to(data) for p in data.rglob("*.png"))


def test_class_wise_method_without_class_folders_says_so(workspace, tmp_path, capsys):
    _, data, _ = workspace
    ckpt = tmp_path / "cw.safetensors"
    assert main(["fit", "classwise", str(data), "--out", str(ckpt), "--quiet"]) == 0
    loose = tmp_path / "loose"
    loose.mkdir()
    Image.fromarray(np.full((16, 16), 90, dtype=np.uint8)).save(loose / "a.png")
    assert main(["protect", "--checkpoint", str(ckpt), str(loose), str(tmp_path / "out")]) == 2
    assert "folder named after its class" in capsys.readouterr().err


@pytest.mark.parametrize("method, option", [("random", "block=2"), ("confoundergan", "bogus=1")])
def test_fit_rejects_an_option_the_method_does_not_take(method, option, workspace, tmp_path, capsys):
    _, data, _ = workspace
    assert main(["fit", method, str(data), "--out", str(tmp_path / "r.safetensors"), "--option", option]) == 2
    err = capsys.readouterr().err
    assert option.partition("=")[0] in err and err.count("\n") == 1


def test_evaluate_with_defence_mixing_and_adversarial_training(workspace, tmp_path, capsys):
    _, data, _ = workspace
    results = tmp_path / "eval.json"
    assert main(["evaluate", "--train", str(data), "--test", str(data), "--recipe", "linear", "--epochs", "1",
                 "--defence", "bit-depth", "--mix", "mixup", "--adversarial-epsilon", "4/255",
                 "--out", str(results), "--quiet"]) == 0
    result = json.loads(results.read_text())
    assert result["defence"]["name"] == "bit-depth" and result["recipe"]["mix"] == "mixup"
    assert result["recipe"]["adversarial_epsilon"] == pytest.approx(4 / 255)


def test_under_torchrun_a_verb_without_a_data_parallel_path_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 2
    assert "only train-generator, fit and evaluate train data-parallel" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()
