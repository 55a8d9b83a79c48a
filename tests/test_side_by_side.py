"""experiments/side_by_side.py: parts of an experiment in forked lanes, results and errors as in one process."""
import os
import sys

import pytest
import torch

from imageprivacy.errors import ConfigurationError, WorkerError
from imageprivacy.experiments.side_by_side import check_lanes, default_lanes, side_by_side

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lanes fork on Linux only")


def _seeded_part(name):
    torch.manual_seed(len(name))
    return {"pid": os.getpid(), "value": torch.rand(3).tolist(), "threads": torch.get_num_threads()}


@needs_fork
def test_lanes_give_what_one_process_gives():
    names = ["a", "bb", "ccc", "dddd"]
    alone = dict(side_by_side(_seeded_part, names, 1))
    lanes = dict(side_by_side(_seeded_part, names, 2))
    assert set(lanes) == set(names)
    assert all(lanes[n]["value"] == alone[n]["value"] for n in names)
    assert all(alone[n]["pid"] == os.getpid() for n in names)
    assert all(lanes[n]["pid"] != os.getpid() for n in names)
    assert all(lanes[n]["threads"] == max(1, (os.cpu_count() or 1) // 2) for n in names)


def _failing_part(name):
    if name == "bad":
        raise ConfigurationError("bad part")
    return name


@needs_fork
def test_an_error_in_a_lane_comes_back_typed():
    with pytest.raises(ConfigurationError, match="bad part"):
        list(side_by_side(_failing_part, ["ok", "bad", "later"], 2))


def _dying_part(name):
    if name == "dies":
        os._exit(9)
    return name


@needs_fork
def test_a_lane_that_dies_is_a_worker_error():
    with pytest.raises(WorkerError, match="--lanes 1"):
        list(side_by_side(_dying_part, ["dies", "other"], 2))


def test_lane_counts():
    assert default_lanes("cuda", 5) == 1
    assert 1 <= default_lanes("cpu", 5) <= 5 and default_lanes("cpu", 1) == 1
    check_lanes("cpu", 1)
    with pytest.raises(ConfigurationError, match=">= 1"):
        check_lanes("cpu", 0)
    with pytest.raises(ConfigurationError, match="--lanes 1"):
        check_lanes("cuda", 2)
