"""Reports: results.json in, Markdown + PNG figures out; and the experiments that write results.json."""
import json
import sys

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.experiments.unlearnable import epsilon_sweep
from imageprivacy.experiments.unlearnable.demo import DemoConfig, lane_order, run_confounder_demo
from imageprivacy.experiments.unlearnable.epsilon_sweep import SweepConfig, run_sweep
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.report.unlearnable.demo_report import write_demo_report
from imageprivacy.report.unlearnable.sweep_report import write_sweep_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _victim(method, recipe, accs):
    return {"method": method, "recipe_name": recipe, "recipe": {"arch": recipe, "width": None},
            "train_acc": [0.5, 0.7, 0.9], "test_acc": accs, "best_test_acc": max(accs),
            "best_epoch": accs.index(max(accs)) + 1, "final_test_acc": accs[-1], "train_fit_acc": 0.95}


def _assert_png(path):
    assert path.is_file() and path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as image:
        assert image.width > 100 and image.height > 100


def test_demo_report_from_results(tmp_path, tiny_set):
    clean = tiny_set.images[:8]
    protected = {"classwise": (clean.int() + 4).clamp(0, 255).to(torch.uint8), "confoundergan": clean.flip(-1)}
    save_file({"clean": clean.contiguous(), **protected}, str(tmp_path / "grid.safetensors"))
    results = {"config": {"data": "tiny", "epsilon": 16 / 255, "seed": 0}, "train_size": 64, "test_size": 48,
               "grid_images": "grid.safetensors",
               "protections": {name: {"quality": protection_quality(clean, p), "fit_seconds": 1.5,
                                      "label_consistency": 1.0 if name == "classwise" else None}
                               for name, p in protected.items()},
               "victims": [_victim(m, r, [0.4, 0.8, 0.6]) for r in ("paper", "linear")
                           for m in ("clean", "classwise", "confoundergan")],
               **provenance("cpu")}
    write_results(results, tmp_path / "results.json")
    report = write_demo_report(tmp_path)
    text = report.read_text()
    assert report == tmp_path / "report.md"
    assert "# ConfounderGAN on tiny" in text and "epsilon = 16/255" in text
    for figure in ("accuracy_curves.png", "protection_grid.png"):
        assert f"]({figure})" in text
        _assert_png(tmp_path / figure)
    assert "| linear (linear, width None, 3 epochs) | classwise | 60.0 | 80.0 | 2 | 95.0 |" in text
    assert sum(line.startswith("| paper ") for line in text.splitlines()) == 3
    assert "| classwise | 36.09 | 36.09 | " in text and "| 4 | 2 | 100.0 |" in text
    assert "| ConfounderGAN, fitted on these images (in-distribution) |" in text and "| n/a |" in text


def test_sweep_report_from_results(tmp_path):
    rows = [{"epsilon": eps, "method": m, "recipe_name": r, "best_test_acc": 0.9 - eps, "final_test_acc": 0.8 - eps,
             "quality": None if m == "clean" else {"psnr_mean_db": 40.0, "ssim_mean": 0.95},
             "label_consistency": 0.5 if m == "confoundergan" else None}
            for r in ("paper", "linear") for eps in (8 / 255, 16 / 255)
            for m in ("clean", "random", "confoundergan") if m != "clean" or eps == 8 / 255]
    cfg = {"data": "tiny", "victim_epochs": 2, "victim_width": 4, "generator_epochs": 1, "seed": 0}
    write_results({"config": cfg, "rows": rows, "train_size": 64, "test_size": 48, **provenance("cpu")},
                  tmp_path / "results.json")
    text = write_sweep_report(tmp_path).read_text()
    assert "# Epsilon sweep on tiny" in text and "](sweep.png)" in text
    _assert_png(tmp_path / "sweep.png")
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(table) == len(rows) == 10
    assert "| - | clean | linear | 86.9 | 76.9 | - | - | - |" in text
    assert "| 16/255 | confoundergan | paper | 83.7 | 73.7 | 40.0 | 0.950 | 50.0 |" in text


@pytest.fixture
def data_folder(labelled_folder):
    return labelled_folder


def _tiny_demo(data_folder, **changes):
    return DemoConfig(data=str(data_folder), train_size=None, epsilon=8 / 255, generator_epochs=1,
                      recipes=("linear",), victim_epochs=1,
                      extra={"width": 4, "f_arch": "small-cnn", "f_width": 4, "f_epochs": 1, "selector_epochs": 2},
                      **changes)


def test_demo_end_to_end(tmp_path, data_folder):
    cfg = _tiny_demo(data_folder)
    results, protected, train = run_confounder_demo(cfg, tmp_path)
    # every victim trains on the same 16 images; confoundergan-new was fitted on the other 16
    assert set(protected) == {"clean", "classwise", "emn", "confoundergan", "confoundergan-new"} and len(train) == 16
    assert all(len(data) == 16 for data in protected.values())
    assert results["protections"]["confoundergan"]["fitted_on_protected_images"] is True
    assert results["protections"]["confoundergan-new"]["fitted_on_protected_images"] is False
    assert len(results["victims"]) == 5 and results["test_size"] == 16
    for name in ("classwise", "emn", "confoundergan", "confoundergan-new"):
        assert results["protections"][name]["quality"]["linf_max_levels"] <= 8
    assert (tmp_path / "confoundergan.safetensors").is_file() and (tmp_path / "confoundergan-new.safetensors").is_file()
    assert all(0 <= v["train_fit_acc"] <= 1 and "train_fit_acc" in v for v in results["victims"])
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["victims"][0]["test_acc"] == results["victims"][0]["test_acc"] and on_disk["seconds"] > 0
    text = write_demo_report(tmp_path).read_text()
    assert "epsilon = 8/255" in text and text.count("| linear (linear") == 5
    assert "fitted on other images (new images)" in text
    _assert_png(tmp_path / "protection_grid.png")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lanes fork on Linux only")
def test_demo_lanes_change_nothing_but_the_time(tmp_path, data_folder, monkeypatch):
    """Methods side by side (two forked lanes) give what one process gives, in the same order."""
    monkeypatch.setattr("os.cpu_count", lambda: 2)       # one torch thread per lane, as this process has (conftest)
    one, *_ = run_confounder_demo(_tiny_demo(data_folder, lanes=1), tmp_path / "one")
    two, protected, _ = run_confounder_demo(_tiny_demo(data_folder, lanes=2), tmp_path / "two")
    assert one["lanes"] == 1 and two["lanes"] == 2
    assert [(v["method"], v["test_acc"], v["train_fit_acc"]) for v in two["victims"]] == \
        [(v["method"], v["test_acc"], v["train_fit_acc"]) for v in one["victims"]]
    assert [v["method"] for v in two["victims"]] == list(DemoConfig().methods) == list(protected)
    assert {k: v["quality"] for k, v in two["protections"].items()} == {k: v["quality"] for k, v in one["protections"].items()}


def test_demo_lanes_take_emn_then_the_methods_without_a_fit_then_the_generators():
    assert lane_order(DemoConfig().methods) == ["emn", "clean", "classwise", "confoundergan", "confoundergan-new"]
    assert lane_order(["confoundergan", "clean"]) == ["clean", "confoundergan"]


def test_sweep_end_to_end_and_resume(tmp_path, data_folder, monkeypatch):
    cfg = SweepConfig(data=str(data_folder), train_size=None, epsilons=(8 / 255, 16 / 255),
                      methods=("clean", "random", "classwise"), recipes=("linear",), victim_epochs=1)
    rows = run_sweep(cfg, tmp_path)["rows"]
    assert sorted((r["method"], round(r["epsilon"] * 255)) for r in rows) == \
        [("classwise", 8), ("classwise", 16), ("clean", 8), ("random", 8), ("random", 16)]
    assert all(r["quality"]["linf_max_levels"] <= round(r["epsilon"] * 255) for r in rows if r["quality"])

    def no_more_training(*args, **kwargs):
        raise AssertionError("a finished row was trained again")
    monkeypatch.setattr(epsilon_sweep, "train_victim", no_more_training)
    assert run_sweep(cfg, tmp_path)["rows"] == json.loads((tmp_path / "results.json").read_text())["rows"]
    assert "](sweep.png)" in write_sweep_report(tmp_path).read_text()
