"""The research bench (experiments/unlearnable/bench.py): every (seed, method, recipe) scored, the spread over
seeds summarised, and the same figures whether its parts run in one process or side by side."""
import sys

import pytest

from imageprivacy.experiments.unlearnable.bench import BenchConfig, run_bench


def _bench(folder, lanes):
    return BenchConfig(data=str(folder), train_size=24, test_size=16, epsilon=8 / 255, seeds=(0, 1),
                       methods=("clean", "classwise"), recipes=("linear", "small-cnn"), victim_epochs=1,
                       lanes=lanes)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lanes fork on Linux only")
def test_bench_parts_side_by_side_give_what_one_process_gives(tmp_path, labelled_folder, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)       # one torch thread per lane, as this process has (conftest)
    one = run_bench(_bench(labelled_folder, 1), tmp_path / "one")
    two = run_bench(_bench(labelled_folder, 2), tmp_path / "two")
    key = [(v["seed"], v["method"], v["recipe_name"]) for v in one["victims"]]
    assert key == [(s, m, r) for s in (0, 1) for m in ("clean", "classwise") for r in ("linear", "small-cnn")]
    assert [(v["seed"], v["method"], v["recipe_name"], v["test_acc"]) for v in two["victims"]] == \
        [(v["seed"], v["method"], v["recipe_name"], v["test_acc"]) for v in one["victims"]]
    assert [(p["seed"], p["method"]) for p in two["protections"]] == [(0, "classwise"), (1, "classwise")]
    assert two["summary"] == one["summary"] and len(one["summary"]) == 4
    row = next(r for r in one["summary"] if (r["method"], r["recipe_name"]) == ("classwise", "linear"))
    finals = [v["final_test_acc"] for v in one["victims"] if (v["method"], v["recipe_name"]) == ("classwise", "linear")]
    assert row["seeds"] == [0, 1] and row["final_test_acc"]["min"] == min(finals) <= row["final_test_acc"]["max"] == max(finals)
    assert (tmp_path / "two" / "results.json").is_file() and two["lanes"] == 2
