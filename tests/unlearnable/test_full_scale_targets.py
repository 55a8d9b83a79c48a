"""The target-run experiment, end to end on a tiny image folder: rows, OOD split, resume."""
import json
from dataclasses import asdict, replace

import torch

from conftest import make_imageset, write_image_folder
from imageprivacy.data import load_dataset

from imageprivacy.experiments.unlearnable import full_scale_targets
from imageprivacy.experiments.unlearnable.full_scale_targets import TargetConfig, finished_rows, run_targets
from imageprivacy.protections import load_protection


def test_targets_end_to_end_and_resume(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_image_folder(make_imageset(n=32, seed=3), data / "train")
    write_image_folder(make_imageset(n=16, seed=4), data / "test")
    cfg = TargetConfig(data=str(data), victim_epochs=1,
                       generator={"epochs": 1, "f_epochs": 1, "width": 4, "f_arch": "small-cnn", "f_width": 4},
                       runs=("confoundergan/linear", "ood/linear", "classwise/linear"))
    out = tmp_path / "run"
    out.mkdir()
    results = run_targets(cfg, out, progress=lambda *a: None)
    assert [r["run"] for r in results["rows"]] == list(cfg.runs)
    ood = next(r for r in results["rows"] if r["run"] == "ood/linear")
    assert ood["train_size"] == 16                 # the half the generator never saw
    assert all(q["linf_max_levels"] <= 16 for q in results["quality"].values())
    # in-distribution: fitted on the 32 images it protects; ood: fitted on the first 16, protecting the other 16
    generators = results["generators"]
    assert generators["confoundergan"]["fit_images"] == 32 and generators["ood"]["fit_images"] == 16
    generator = load_protection(out / "ood.safetensors")
    unseen = load_dataset(str(data), split="train").subset(torch.arange(16, 32))
    assert generators["ood"]["label_consistency_protected"] == generator.label_consistency(unseen)

    def no_more_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")
    monkeypatch.setattr(full_scale_targets, "train_victim", no_more_training)
    again = run_targets(cfg, out, progress=lambda *a: None)
    assert again["rows"] == json.loads((out / "results.json").read_text())["rows"]
    # Asking for a subset of the runs later keeps every finished row (rows are per run).
    fewer = run_targets(replace(cfg, runs=("ood/linear",)), out, progress=lambda *a: None)
    assert [r["run"] for r in fewer["rows"]] == list(cfg.runs)

    # A smaller victim set is another setup: its victims train afresh on a generator fitted on that set.
    monkeypatch.undo()
    smaller = run_targets(replace(cfg, train_size=12, runs=("confoundergan/linear", "ood/linear")), out,
                          progress=lambda *a: None)
    assert [r["train_size"] for r in smaller["rows"]] == [12, 12]
    assert smaller["generators"]["confoundergan"]["fit_images"] == 12


def test_rows_of_a_run_from_before_a_new_field_are_kept():
    config = json.loads(json.dumps(asdict(TargetConfig())))
    old = {k: v for k, v in config.items() if k != "train_size"}   # written before --train-size existed
    rows = [{"run": "confoundergan/paper"}]
    assert finished_rows({"config": old, "rows": rows}, config) == rows
    assert finished_rows({"config": old, "rows": rows}, {**config, "train_size": 20_000}) == []
    assert finished_rows({"config": {**old, "runs": ["x/y"]}, "rows": rows}, config) == rows
