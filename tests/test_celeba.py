"""The CelebA loader on tiny files written here in exactly CelebA's on-disk format, and attribute labels."""
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from imageprivacy.data import load_dataset
from imageprivacy.data.attribute_images import AttributeImageSet
from imageprivacy.data.attribute_task import guessing_level, label_accuracy, resolve_labels
from imageprivacy.data.celeba import read_celeba
from imageprivacy.errors import DatasetError, MissingLabelsError

NAMES = ["5_o_Clock_Shadow", "Male", "Smiling", "Young"]


def write_celeba(root, n=9, broken=("000004.jpg",), nested=False):
    """n 178x218 JPEGs, the attribute table (-1/1, padded like the original) and the partition file."""
    rng = np.random.default_rng(0)
    folder = root / "img_align_celeba" / ("img_align_celeba" if nested else "")
    folder.mkdir(parents=True, exist_ok=True)
    values = rng.choice([-1, 1], size=(n, len(NAMES)))
    rows = []
    for i in range(n):
        name = f"{i + 1:06d}.jpg"
        if name in broken:
            (folder / name).write_bytes(b"not a jpeg")
        else:
            Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(folder / name, quality=90)
        rows.append(f"{name} " + " ".join(f"{v:2d}" for v in values[i]))
    (root / "list_attr_celeba.txt").write_text(f"{n}\n" + " ".join(NAMES) + " \n" + "\n".join(rows) + "\n")
    parts = [0] * (n - 4) + [1, 1, 2, 2]
    (root / "list_eval_partition.txt").write_text("".join(f"{i + 1:06d}.jpg {p}\n" for i, p in enumerate(parts)))
    return (values + 1) // 2


def test_celeba_splits_attributes_resize_and_skips(tmp_path):
    truth = write_celeba(tmp_path)
    train, skipped = read_celeba(tmp_path, "train", size=16)
    assert isinstance(train, AttributeImageSet) and train.images.shape == (4, 3, 16, 16)
    assert train.images.dtype == torch.uint8 and train.labels is None and train.attribute_names == NAMES
    kept = [0, 1, 2, 4]                                   # 000004.jpg does not decode
    assert torch.equal(train.attributes, torch.from_numpy(truth[kept]).long())
    assert len(skipped) == 1 and skipped[0][0].endswith("000004.jpg")
    test, _ = read_celeba(tmp_path, "test", size=None)
    assert test.images.shape == (2, 3, 218, 178)          # native size kept
    assert torch.equal(test.attribute("Male"), torch.from_numpy(truth[7:, 1]).long())
    sub = train.subset([3, 0])
    assert torch.equal(sub.attributes, train.attributes[[3, 0]]) and sub.attribute_names == NAMES
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        val = load_dataset("celeba", split="val", data_dir=tmp_path, size=8)
    assert val.images.shape == (2, 3, 8, 8) and not caught
    with pytest.warns(UserWarning, match="skipped"):
        load_dataset("celeba", split="train", data_dir=tmp_path, size=8)


def test_celeba_format_errors(tmp_path):
    write_celeba(tmp_path, nested=True)
    assert read_celeba(tmp_path, "val", size=8)[0].images.shape[0] == 2       # Kaggle's nested folder
    with pytest.raises(DatasetError, match="splits"):
        read_celeba(tmp_path, "dev")
    with pytest.raises(DatasetError, match="no attribute 'Bald'"):
        read_celeba(tmp_path, "val", size=8)[0].attribute("Bald")
    (tmp_path / "list_attr_celeba.txt").write_text("1\nMale\n000001.jpg 0\n")
    with pytest.raises(DatasetError, match="-1 or 1"):
        read_celeba(tmp_path, "train")
    with pytest.raises(DatasetError, match="list_eval_partition"):
        read_celeba(tmp_path / "missing", "train")


def test_attribute_labels_joint_encoding_and_guessing(tmp_path):
    truth = write_celeba(tmp_path, broken=())
    data = read_celeba(tmp_path, "train", size=8)[0]
    task = resolve_labels(data, "Smiling,Young")
    assert task.num_classes == 4 and task.attributes == ("Smiling", "Young")
    assert torch.equal(task.labels, torch.from_numpy(truth[:5, 2] + 2 * truth[:5, 3]).long())
    assert task.names[3] == "Smiling=1,Young=1"
    scores = label_accuracy(torch.tensor([3, 0]), torch.tensor([1, 0]), ("Smiling", "Young"))
    assert scores["per_attribute"] == {"Smiling": 1.0, "Young": 0.5} and scores["accuracy"] == 0.75
    assert scores["exact"] == 0.5
    with pytest.raises(MissingLabelsError):
        resolve_labels(data, "class")
    # private exactly predictable from the task: guessing is perfect; independent: about the majority
    task_labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    assert guessing_level(task_labels, task_labels % 2, task_labels, task_labels % 2, ("Male",))["given_task"] == 1.0
