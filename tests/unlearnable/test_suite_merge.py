"""Merging suite folders of one config: cells, rows and protected sets fold in; mismatches are refused."""
import json

import pytest

from imageprivacy.errors import SuiteMergeError
from imageprivacy.experiments.unlearnable.suite_merge import main, merge_suite_runs

CONFIG = {"data": "tiny", "train_size": 100, "victim_epochs": 2, "seed": 0}
CG = {"repr": "cg", "fit_seconds": 12.0, "label_consistency": 0.9}


def _run(tmp_path, name, cells, protected=None, config=CONFIG, finished="2026-01-01T00:00:00+00:00", acc=0.5):
    folder = tmp_path / name
    folder.mkdir()
    results = {"experiment": "confoundergan-paper-suite", "config": config,
               "cells": [{"experiment": e, "series": s, "x": x, "key": k} for e, s, x, k in cells],
               "rows": {k: {"final_test_acc": acc, "test_acc": [acc]} for *_, k in cells},
               "protected": protected or {"confoundergan@1": CG}, "git_commit": name, "finished_utc": finished,
               "versions": {}, "machine": {"device": "cpu"}}
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_merge_folds_cells_rows_and_protected_sets(tmp_path, capsys):
    base = _run(tmp_path, "base", [("in-distribution", "natural", "resnet18", "nat"),
                                   ("in-distribution", "confoundergan", "resnet18", "cg")])
    augment = _run(tmp_path, "augment", [("augment", "natural", "none", "nat"),      # shares the natural run
                                         ("augment", "confoundergan", "RHF", "cg-rhf")],
                   finished="2026-02-01T00:00:00+00:00")
    defences = _run(tmp_path, "defences", [("defences", "confoundergan", "jpeg", "cg-jpeg")],
                    protected={"confoundergan@1": CG, "emn@1": {"repr": "emn"}})
    main([str(base), str(augment), str(defences)])
    assert "5 cells, 4 victim runs from 3 folders" in capsys.readouterr().out
    merged = json.loads((base / "results.json").read_text())
    assert {c["experiment"] for c in merged["cells"]} == {"in-distribution", "augment", "defences"}
    assert set(merged["protected"]) == {"confoundergan@1", "emn@1"}
    assert [h["run"] for h in merged["merged_from"]] == [str(base), str(augment), str(defences)]
    assert merged["git_commit"] == "augment"                  # the newest folder's provenance leads
    again = merge_suite_runs(base, [augment])                 # merging twice changes nothing
    assert len(again["cells"]) == 5 and len(again["merged_from"]) == 3


@pytest.mark.parametrize("change, message", [
    ({"config": {**CONFIG, "seed": 1}}, "another config"),
    ({"protected": {"confoundergan@1": {**CG, "label_consistency": 0.8}}}, "protected set 'confoundergan@1' differs"),
    ({"acc": 0.7}, "different results for one victim run"),
])
def test_merge_refuses_folders_of_another_run(tmp_path, change, message):
    base = _run(tmp_path, "base", [("in-distribution", "natural", "resnet18", "nat")])
    other = _run(tmp_path, "other", [("augment", "natural", "none", "nat")], **change)
    before = (base / "results.json").read_text()
    with pytest.raises(SuiteMergeError, match=message):
        merge_suite_runs(base, [other])
    assert (base / "results.json").read_text() == before      # nothing written on refusal
