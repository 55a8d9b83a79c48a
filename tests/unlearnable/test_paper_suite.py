"""The paper's experiment suite on a tiny image folder: cells, protected-set cache, resume, adaptive trainer."""
import json
import sys

import pytest

from conftest import TINY_OPTIONS, make_imageset, write_image_folder
from imageprivacy.experiments.unlearnable import paper_suite
from imageprivacy.experiments.unlearnable.paper_suite import SuiteConfig, run_suite
from imageprivacy.experiments.unlearnable.suite_cells import EXPERIMENTS, Part, adaptive, defences, mixed, only_methods
from imageprivacy.report.unlearnable.suite_report import write_suite_report


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("suite-data")
    write_image_folder(make_imageset(n=56, seed=3), root / "train")
    write_image_folder(make_imageset(n=24, seed=4, name="test"), root / "test")
    return root


def _config(folder, **over):
    options = {"confoundergan": TINY_OPTIONS["confoundergan"], "emn": TINY_OPTIONS["emn"]}
    return SuiteConfig(data=str(folder), train_size=None, test_size=None, victim_epochs=1, victim_width=2,
                       attacker_size=8, options=options, **over)


def test_mixed_cells_follow_the_paper_polylines():
    cells = mixed((0.0, 0.5, 1.0))
    by = {(c.series[0], c.x): c for c in cells}
    assert ("2", 1.0) not in by and ("5", 0.0) not in by         # nothing natural left / no generator
    assert by[("4", 0.5)].parts == (Part("confoundergan", 0.5, "head", 0.5), Part("natural", 1.0, "tail", 0.5))
    assert by[("4", 1.0)].parts == (Part("confoundergan"),)       # p = 1 is the in-distribution set
    assert by[("5", 0.5)].parts == (Part("confoundergan", 0.5),)  # the p-fitted generator protects all
    assert by[("1", 0.0)].key == by[("1", 1.0)].key == by[("3", 0.0)].key   # one natural-100 % run


def test_suite_runs_resumes_and_reports(folder, tmp_path, monkeypatch):
    out = tmp_path / "suite"
    results = run_suite(_config(folder), ["in-distribution", "adaptive"], out)
    cells = [c for c in results["cells"] if c["experiment"] == "in-distribution"]
    assert {c["series"] for c in cells} == {"natural", "random", "cwn", "cwp", "emn", "confoundergan"}
    assert all(c["key"] in results["rows"] for c in results["cells"])
    assert len(results["rows"]) == 7                       # natural of both experiments is one run
    assert results["train_size"] == 56 - 8                 # the attacker's images are held out
    protected = results["protected"]
    assert protected["cwn@1"]["quality"]["linf_max_levels"] <= 16
    assert protected["emn@1"]["fit_record"]["rounds"] >= 1
    assert "confoundergan+remover@1" in protected
    assert (out / "protected" / "confoundergan@1.method.safetensors").exists()

    calls = []
    monkeypatch.setattr(paper_suite, "train_victim", lambda *a, **k: calls.append(1))
    again = run_suite(_config(folder), ["in-distribution", "adaptive"], out)
    same = json.dumps(again["rows"], sort_keys=True) == json.dumps(results["rows"], sort_keys=True)
    assert calls == [] and same                                       # resumed: nothing retrained
    report = write_suite_report(out).read_text()
    assert "in-distribution" in report and "## Adaptive trainer: a noise remover" in report


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lanes fork on Linux only")
def test_suite_victims_side_by_side_give_what_one_process_gives(folder, tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)       # one torch thread per lane, as this process has (conftest)
    one = run_suite(_config(folder), ["in-distribution"], tmp_path / "one", methods=["cwn"], lanes=1)
    two = run_suite(_config(folder), ["in-distribution"], tmp_path / "two", methods=["cwn"], lanes=2)
    assert two["lanes"] == 2 and set(two["rows"]) == set(one["rows"]) and len(one["rows"]) == 2
    assert all(two["rows"][k]["test_acc"] == one["rows"][k]["test_acc"] for k in one["rows"])


def test_unknown_experiment_is_refused(folder, tmp_path):
    with pytest.raises(ValueError, match="unknown experiment"):
        run_suite(_config(folder), ["fig-9"], tmp_path)
    assert set(EXPERIMENTS) >= {"in-distribution", "mixed", "curves-90", "transfer", "augment", "defences"}


def test_only_methods_keeps_their_cells_and_natural():
    kept = only_methods(defences() + mixed() + adaptive(), ["emn", "confoundergan"])
    methods = {p.method for c in kept for p in c.parts}
    assert methods == {"natural", "emn", "confoundergan", "confoundergan+remover"}
    assert {c.series for c in kept if c.experiment == "defences"} == {"natural", "emn", "confoundergan"}
    assert len([c for c in kept if c.experiment == "defences"]) == 3 * 7
    assert only_methods(mixed(), None) == mixed()


def test_unknown_method_filter_is_refused(folder, tmp_path):
    with pytest.raises(ValueError, match="unknown suite method"):
        run_suite(_config(folder), ["defences"], tmp_path, methods=["emm"])
