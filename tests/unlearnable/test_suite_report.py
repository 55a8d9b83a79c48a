"""The paper-suite report and results page, from a small hand-built results.json (no training)."""
import json
import shlex

import pytest
from PIL import Image

from imageprivacy.report.unlearnable.paper_numbers import TABLE1, TABLE2
from imageprivacy.report.unlearnable.results_page import main as results_page_main
from imageprivacy.report.unlearnable.results_page import reproduce_command
from imageprivacy.report.unlearnable.suite_report import write_suite_report
from imageprivacy.report.unlearnable.suite_targets import count_pairs, defence_coverage, targets_section, total

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _row(final, best):
    return {"seconds": 1.0, "recipe": {"arch": "resnet18", "width": 4}, "parameters": 1000, "train_size": 100,
            "train_acc": [0.5, 0.9], "train_loss": [1.0, 0.2], "test_acc": [best, final],
            "best_test_acc": best, "best_epoch": 1, "final_test_acc": final}


# (experiment, series, x, key, row or None). "nat" is one victim run shared by three cells.
CELLS = [
    ("in-distribution", "natural", "resnet18", "nat", _row(0.90, 0.92)),
    ("in-distribution", "emn", "resnet18", "id-emn", _row(0.30, 0.35)),
    ("in-distribution", "confoundergan", "resnet18", "id-cg", _row(0.20, 0.25)),     # lower: pair 1
    ("mixed", "1: natural 100 %", 0.0, "nat", None),
    ("mixed", "1: natural 100 %", 0.5, "nat", None),
    ("mixed", "3: EMN p + natural", 0.5, "mix-emn", _row(0.80, 0.85)),
    ("mixed", "4: ConfounderGAN p + natural", 0.5, "mix-cg", None),                   # not run
    ("curves-90", "1: natural 100 %", 0.9, "nat", None),
    ("curves-90", "5: ConfounderGAN 90 % only", 0.9, "c90-cg", _row(0.15, 0.40)),
    ("transfer", "emn", "vgg11", "tr-emn-vgg", _row(0.40, 0.45)),
    ("transfer", "confoundergan", "vgg11", "tr-cg-vgg", _row(0.30, 0.31)),           # lower: pair 2
    ("transfer", "emn", "resnet50", "tr-emn-r50", _row(0.20, 0.22)),
    ("transfer", "confoundergan", "resnet50", "tr-cg-r50", _row(0.25, 0.26)),        # higher: pair 3
    ("augment", "emn", "none", "au-emn", _row(0.50, 0.55)),
    ("augment", "confoundergan", "none", "au-cg", _row(0.10, 0.12)),                 # lower: pair 4
    ("defences", "natural", "none", "nat", None),
    ("defences", "confoundergan", "none", "df-cg", _row(0.20, 0.25)),
    ("defences", "natural", "jpeg", "df-nat-jpeg", _row(0.85, 0.86)),
    ("defences", "confoundergan", "jpeg", "df-cg-jpeg", None),                        # not run
]


def _results():
    rows = {key: row for *_, key, row in CELLS if row}
    quality = {"psnr_mean_db": 35.123, "psnr_min_db": 30.0, "unchanged_images": 0, "ssim_mean": 0.912,
               "linf_max_levels": 8, "images": 100}
    return {"experiment": "confoundergan-paper-suite",
            "config": {"data": "tiny", "data_dir": None, "train_size": 100, "test_size": 50, "epsilon": 8 / 255,
                       "victim_epochs": 2, "victim_width": 4, "options": {"emn": {"max_rounds": 2}},
                       "device": "cpu", "seed": 0},
            "epsilon": 8 / 255, "train_size": 100, "test_size": 50,
            "cells": [{"experiment": e, "series": s, "x": x, "key": k} for e, s, x, k, _ in CELLS],
            "rows": rows,
            "protected": {"confoundergan@1": {"made_by": {}, "repr": "cg", "fit_seconds": 12.0, "protect_seconds": 0.5,
                                              "quality": quality, "label_consistency": 0.95},
                          "emn@1": {"made_by": {}, "repr": "emn", "fit_seconds": 30.0, "protect_seconds": 0.0,
                                    "quality": quality,
                                    "fit_record": {"rounds": 5, "train_acc": 0.3193, "reached_stop": False}}},
            "versions": {"torch": "x"}, "machine": {"device": "cpu", "cpu_count": 2}, "git_commit": "abc1234",
            "finished_utc": "2024-01-01T00:00:00+00:00"}


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(_results()))
    return folder


def test_suite_report_tables_figures_and_not_run(run_dir):
    text = write_suite_report(run_dir).read_text()
    assert (run_dir / "report.md").is_file()
    assert "Data: tiny" in text and "commit abc1234" in text and "epsilon = 8/255" in text
    assert "reduced scale" in text and "train size capped at 100 images" in text and "width 4" in text
    assert "| confoundergan | 1 | 35.12 | 30.00 | 0.912 | 8 | 0 | 95.0 | 12.0 | 0.5 |" in text
    assert "| emn | 1 | 35.12 | 30.00 | 0.912 | 8 | 0 | - | 30.0 | 0.0 |" in text
    assert "| confoundergan | 20.0 (25.0) |" in text
    # The shared "nat" run fills every cell that names it; the unfinished cell says so.
    assert "| 1: natural 100 % | 90.0 (92.0) | 90.0 (92.0) |" in text
    assert "| 4: ConfounderGAN p + natural | - | not run |" in text
    assert "| confoundergan | 20.0 (25.0) | not run |" in text          # defences: none, jpeg
    assert "19 cells, 13 finished victim runs (4 cells reuse another cell's run" in text
    for name in ("in-distribution", "mixed", "curves-90"):
        assert f"]({name}.png)" in text
        path = run_dir / f"{name}.png"
        assert path.read_bytes()[:8] == PNG_MAGIC
        with Image.open(path) as image:
            assert image.width > 100 and image.height > 100
    # The paper's numbers sit beside ours, labelled as the paper's and not our setting.
    assert "| *emn: paper, CIFAR-10, not our setting* | *17.4* |" in text
    assert "| *confoundergan: paper, SVHN, not our setting* | *25.4* | *10.1* |" in text
    assert "| *natural: paper, ISIC, not our setting* | *72.6* | - |" in text
    assert TABLE2.source in text and TABLE1[0].source in text
    assert "Chance level" not in text                                   # the results do not say
    assert "grayscale leaves them unchanged" not in text                # channels not recorded: no claim


def test_defence_note_says_grayscale_is_the_identity_on_gray_images(run_dir):
    results = json.loads((run_dir / "results.json").read_text())
    (run_dir / "results.json").write_text(json.dumps({**results, "channels": 1}))
    assert "grayscale leaves them unchanged" in write_suite_report(run_dir).read_text()


def test_protected_table_says_how_far_emn_fitted(run_dir):
    report = write_suite_report(run_dir).read_text()
    assert "| 5 rounds, surrogate train acc. 31.9 %, stop not reached |" in report
    assert "| 95.0 | 12.0 | 0.5 | - |" in report          # ConfounderGAN has no fit record


def test_targets_share_and_defence_coverage(run_dir):
    results = json.loads((run_dir / "results.json").read_text())
    counts = count_pairs(results)
    assert {k: (c.lower, c.complete) for k, c in counts.items()} == \
        {"in-distribution": (1, 1), "transfer": (1, 2), "augment": (1, 1)}
    assert total(counts).share == pytest.approx(0.75)
    text = "\n".join(targets_section(results))
    assert "| all | 4 | 3 | 75.0 | - |" in text and "Verdict: **not met** (75.0 % of 4 pairs)" in text
    assert defence_coverage(results) == {"natural": (["none", "jpeg"], []), "confoundergan": (["none"], ["jpeg"])}
    assert "| confoundergan | none | jpeg |" in text and "not met yet (runs missing)" in text
    del results["rows"]["au-emn"]                                       # a pair with one side unfinished
    text = "\n".join(targets_section(results))
    assert "Verdict: **not enough cells** (66.7 % of 3 pairs)" in text and "augment / none" in text
    results["num_classes"] = 4
    assert "Chance level: 25.0 %" in write_suite_report(_write(run_dir, results)).read_text()


def _write(run_dir, results):
    (run_dir / "results.json").write_text(json.dumps(results))
    return run_dir


def test_results_page_commands_and_tables(run_dir, tmp_path):
    out = tmp_path / "docs" / "results" / "suite.md"
    assert results_page_main([str(run_dir), "--out", str(out)]) == 0
    text = out.read_text()
    for experiment in ("in-distribution", "mixed", "curves-90", "transfer", "augment", "defences"):
        assert f"imageprivacy suite {experiment} tiny --out {run_dir} --train-size 100 --test-size 50 " \
               f"--victim-epochs 2 --victim-width 4" in text
    assert "| 4: ConfounderGAN p + natural | - | not run |" in text and "### Targets" in text
    assert "| all | 4 | 3 | 75.0 | - |" in text and "*17.4*" in text
    words = shlex.split(reproduce_command(_results(), "augment", run_dir))
    assert json.loads(words[words.index("--options") + 1]) == {"emn": {"max_rounds": 2}}
    assert float(words[words.index("--epsilon") + 1]) == 8 / 255
    with pytest.raises(SystemExit):
        results_page_main([str(tmp_path / "nowhere"), "--out", str(out)])
