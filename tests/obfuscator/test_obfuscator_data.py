"""Class groups (one definition, shared with DPF), the Fashion-MNIST guessing level, and the leak-proof split."""
import pytest
import torch

from conftest import make_imageset
from imageprivacy.cli.dpf import commands as dpf_command
from imageprivacy.data.attribute_task import default_specs, guessing_level, resolve_labels
from imageprivacy.data.class_groups import (FASHION_MNIST_GROUPS, GROUPINGS, format_groups, group_labels,
                                            parse_groups)
from imageprivacy.data.task_split import TaskPart, TaskSplit, split_task
from imageprivacy.errors import DataLeakError, DatasetError
from imageprivacy.experiments.dpf import run as dpf_run


def test_class_groups_parse_map_and_are_shared_with_dpf():
    assert dpf_run.FASHION_MNIST_GROUPS is FASHION_MNIST_GROUPS == ((0, 2, 4, 6), (1, 3), (5, 7, 9), (8,))
    assert GROUPINGS["fashion-mnist"].names == ("tops", "bottoms", "footwear", "bags")
    assert parse_groups(format_groups(FASHION_MNIST_GROUPS)) == FASHION_MNIST_GROUPS
    assert dpf_command._groups("0,2,4,6/1,3/5,7,9/8") == FASHION_MNIST_GROUPS and dpf_command._groups("none") is None
    assert group_labels(torch.arange(10), FASHION_MNIST_GROUPS).tolist() == [0, 1, 0, 1, 0, 2, 0, 2, 3, 2]
    assert group_labels(torch.tensor([0, 1, 2]), ((4,), (7, 9)), classes=(4, 7, 9)).tolist() == [0, 1, 1]
    for bad in ("0,1/1,2", "a,b", "0,1//2"):
        with pytest.raises((ValueError, DatasetError)):
            parse_groups(bad)
    with pytest.raises(DatasetError, match="not all in the groups"):
        group_labels(torch.tensor([0, 5]), ((0, 1), (2, 3)))


def test_fashion_mnist_defaults_and_guessing_level_is_about_040():
    task, private = default_specs("fashion-mnist")
    assert (parse_groups(task), private) == (FASHION_MNIST_GROUPS, "class")
    fine = torch.arange(2000) % 10                    # balanced, as Fashion-MNIST is
    coarse = group_labels(fine, FASHION_MNIST_GROUPS)
    level = guessing_level(coarse, fine, coarse, fine)
    assert level["given_task"] == pytest.approx(0.40) and level["uniform"] == pytest.approx(0.10)


def _split(**sizes):
    train, test = make_imageset(n=40, seed=0, name="tiny/train"), make_imageset(n=20, seed=1, name="tiny/test")
    return split_task(train, test, "0,1/2,3", "class", (sizes.get("d", 16), sizes.get("a", 16), None), seed=3)


def test_split_is_seeded_disjoint_and_refuses_test_images_for_training():
    split = _split()
    assert split.sizes() == {"defender": 16, "attacker": 16, "test": 20}
    assert not set(split.defender.ids.tolist()) & set(split.attacker.ids.tolist())
    assert split.digest() == _split().digest() != _split(d=15).digest()
    assert torch.equal(split.defender.task, split.defender.private // 2)          # groups 0,1 / 2,3
    assert split.training_part("defender") is split.defender
    with pytest.raises(DataLeakError):
        split.training_part("test")
    with pytest.raises(DataLeakError):
        split.training_part("validation")
    leaky = TaskPart("attacker", split.test.images, split.test.task, split.test.private, split.test.ids,
                     split.test.source)
    with pytest.raises(DataLeakError, match="both"):
        TaskSplit(split.defender, leaky, split.test, split.task, split.private)
    partial = split_task(make_imageset(n=40, seed=0, name="tiny/train"), make_imageset(n=20, seed=1, name="tiny/test"),
                         "0/1", "class", (8, 8, None), seed=3)                  # classes 2 and 3 in no group
    for part in (partial.defender, partial.attacker, partial.test):
        assert set(part.private.tolist()) <= {0, 1} and torch.equal(part.task, part.private)
    assert len(partial.test) == 10
    same = make_imageset(n=40, seed=0, name="tiny")
    with pytest.raises(DatasetError, match="test split holds the training images"):
        split_task(same, same, "0,1/2,3", "class", (10, 10, 10), seed=0)


def test_resolve_labels_names_fashion_mnist_groups():
    data = make_imageset(n=8, classes=4, name="fashion-mnist/train")
    data.class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress"]
    labels = resolve_labels(data, format_groups(FASHION_MNIST_GROUPS))
    assert labels.names == ["tops", "bottoms", "footwear", "bags"] and labels.num_classes == 4
    assert resolve_labels(data, "0,1/2,3").names == ["group0", "group1"]
