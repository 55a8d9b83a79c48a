"""Data set loaders, each on tiny files written here in exactly the real on-disk format."""
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import write_idx
from imageprivacy.data import DATASETS, ImageSet, load_dataset, read_image_folder
from imageprivacy.data.cifar10 import load_cifar10, unpickle_batch
from imageprivacy.data.fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist, read_idx
from imageprivacy.data.image_folder import load_unlabeled_folder
from imageprivacy.data.isic import read_isic2017
from imageprivacy.data.medmnist import load_medmnist
from imageprivacy.data.registry import default_data_dir
from imageprivacy.data.svhn import load_svhn
from imageprivacy.errors import ConfigurationError, DatasetError

RNG = np.random.default_rng(0)
REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def _u8(*shape):
    return RNG.integers(0, 256, shape, dtype=np.uint8)


# ---------------------------------------------------------------- IDX (Fashion-MNIST, MNIST)

@pytest.fixture
def idx_dir(tmp_path):
    """train split gzipped (as distributed), t10k split plain (as after gunzip)."""
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", _u8(5, 28, 28))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([9, 0, 3, 1, 9], dtype=np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", _u8(3, 28, 28))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([2, 2, 7], dtype=np.uint8))
    return tmp_path


def test_read_idx_parses_dtype_code_and_dims(tmp_path):
    array = np.arange(-6, 6, dtype=np.int32).reshape(2, 3, 2)
    out = read_idx(write_idx(tmp_path / "x.idx.gz", array, code=0x0C))
    assert out.dtype == np.int32 and out.shape == (2, 3, 2) and np.array_equal(out, array)


def test_fashion_mnist_gz_and_plain(idx_dir):
    train = load_fashion_mnist(idx_dir, "train")
    test = load_fashion_mnist(idx_dir, "test")
    assert train.images.shape == (5, 1, 28, 28) and train.images.dtype == torch.uint8
    assert train.labels.dtype == torch.int64 and train.labels.tolist() == [9, 0, 3, 1, 9]
    assert test.images.shape == (3, 1, 28, 28) and test.labels.tolist() == [2, 2, 7]
    assert train.class_names == FASHION_MNIST_CLASSES and train.class_names[9] == "Ankle boot"
    assert np.array_equal(train.images[:, 0].numpy(), read_idx(idx_dir / "train-images-idx3-ubyte.gz"))


def test_mnist_reads_the_same_format(idx_dir):
    data = load_mnist(idx_dir, "test")
    assert data.class_names == [str(d) for d in range(10)] and len(data) == 3


def test_idx_wrong_magic(idx_dir):
    (idx_dir / "t10k-images-idx3-ubyte").write_bytes(b"\x1a\x2b\x08\x03" + bytes(12))
    with pytest.raises(DatasetError, match="not an IDX file"):
        load_fashion_mnist(idx_dir, "test")


def test_idx_truncated(idx_dir):
    path = idx_dir / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DatasetError, match="header"):
        load_fashion_mnist(idx_dir, "test")


def test_idx_image_label_count_mismatch(idx_dir):
    write_idx(idx_dir / "t10k-labels-idx1-ubyte", np.array([1, 2], dtype=np.uint8))
    with pytest.raises(DatasetError, match="3 images but .* 2 labels"):
        load_fashion_mnist(idx_dir, "test")


def test_fashion_mnist_missing_dir_says_how_to_install(tmp_path):
    with pytest.raises(DatasetError, match="apt-get install -y dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte"):
        load_fashion_mnist(tmp_path)


@pytest.mark.skipif(not REAL_FASHION_MNIST.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist():
    train, test = load_dataset("fashion-mnist", "train"), load_dataset("fashion-mnist", "test")
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist() == [1000] * 10


# ---------------------------------------------------------------- CIFAR-10

def _batch(n):
    return {b"batch_label": b"batch", b"labels": RNG.integers(0, 10, n).tolist(), b"data": _u8(n, 3072),
            b"filenames": [b"img%d.png" % i for i in range(n)]}


def py2_batch_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch as Python 2's cPickle wrote the real files: str (not bytes) strings, numpy.core names."""
    def py2_str(text):                                     # SHORT_BINSTRING
        return b"U" + bytes([len(text)]) + text
    dtype = (b"cnumpy\ndtype\n" + py2_str(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + py2_str(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    shape = b"J" + struct.pack("<i", data.shape[0]) + b"J" + struct.pack("<i", data.shape[1]) + b"\x86"
    raw = data.tobytes()
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + py2_str(b"b") + b"\x87R"
             + b"(K\x01" + shape + dtype + b"\x89T" + struct.pack("<I", len(raw)) + raw + b"tb")
    label_list = b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    return b"\x80\x02}(" + py2_str(b"data") + array + py2_str(b"labels") + label_list + b"u."


@pytest.fixture
def cifar_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    names = {**{f"data_batch_{i}": _batch(2) for i in range(1, 6)}, "test_batch": _batch(3),
             "batches.meta": {b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer",
                                               b"dog", b"frog", b"horse", b"ship", b"truck"],
                              b"num_cases_per_batch": 2, b"num_vis": 3072}}
    for name, content in names.items():
        (folder / name).write_bytes(pickle.dumps(content, protocol=2))
    # The test batch as the original Python 2 files are, to check that path too.
    (folder / "test_batch").write_bytes(py2_batch_pickle(names["test_batch"][b"data"], [1, 0, 9]))
    return tmp_path


def test_cifar10_from_folder_or_parent(cifar_root):
    folder = cifar_root / "cifar-10-batches-py"
    train = load_cifar10(cifar_root, "train")
    assert train.images.shape == (10, 3, 32, 32) and train.images.dtype == torch.uint8
    assert train.class_names[0] == "airplane" and train.class_names[9] == "truck"
    first = unpickle_batch(folder / "data_batch_1")
    # Each row is 1024 red, then 1024 green, then 1024 blue values, row-major.
    assert np.array_equal(train.images[0, 1].numpy(), first[b"data"][0, 1024:2048].reshape(32, 32))
    assert train.labels[:2].tolist() == first[b"labels"]
    test = load_cifar10(folder, "test")
    assert test.labels.tolist() == [1, 0, 9] and test.images.shape == (3, 3, 32, 32)


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_pickle_is_refused_and_not_run(cifar_root):
    marker = cifar_root / "pwned"
    batch = cifar_root / "cifar-10-batches-py" / "data_batch_1"
    batch.write_bytes(pickle.dumps({b"data": _RunsShell(marker), b"labels": [0]}, protocol=2))
    with pytest.raises(DatasetError, match="refusing to unpickle"):
        load_cifar10(cifar_root, "train")
    assert not marker.exists()


def test_cifar10_missing_batch(cifar_root):
    (cifar_root / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="data_batch_3.*cifar-10-python.tar.gz"):
        load_cifar10(cifar_root)


# ---------------------------------------------------------------- SVHN

def test_svhn_maps_label_10_to_digit_0(tmp_path):
    from scipy.io import savemat
    x = _u8(32, 32, 3, 4)
    savemat(tmp_path / "test_32x32.mat", {"X": x, "y": np.array([[10], [1], [9], [10]], dtype=np.uint8)})
    data = load_svhn(tmp_path, "test")
    assert data.images.shape == (4, 3, 32, 32) and data.images.dtype == torch.uint8
    assert data.labels.tolist() == [0, 1, 9, 0]
    assert np.array_equal(data.images[2].numpy(), x[..., 2].transpose(2, 0, 1))
    with pytest.raises(DatasetError, match="train_32x32.mat.*ufldl.stanford.edu"):
        load_svhn(tmp_path, "train")


# ---------------------------------------------------------------- MedMNIST

def _write_npz(path, shape, n=(4, 2, 3), classes=8):
    arrays = {}
    for split, count in zip(("train", "val", "test"), n):
        arrays[f"{split}_images"] = _u8(count, *shape)
        arrays[f"{split}_labels"] = RNG.integers(0, classes, (count, 1)).astype(np.uint8)
    arrays["test_labels"][0, 0] = classes - 1           # so the class count is known from the file
    np.savez(path, **arrays)
    return arrays


def test_medmnist_rgb_and_gray(tmp_path):
    blood = _write_npz(tmp_path / "bloodmnist.npz", (28, 28, 3))
    _write_npz(tmp_path / "octmnist.npz", (28, 28), classes=4)
    data = load_medmnist("bloodmnist", tmp_path, "val")
    assert data.images.shape == (2, 3, 28, 28) and data.class_names[3] == "immature granulocytes"
    assert np.array_equal(data.images[1].numpy(), blood["val_images"][1].transpose(2, 0, 1))
    assert data.labels.tolist() == blood["val_labels"][:, 0].tolist()
    oct_train = load_dataset("octmnist", "train", data_dir=tmp_path)
    assert oct_train.images.shape == (4, 1, 28, 28) and oct_train.class_names == ["0", "1", "2", "3"]
    with pytest.raises(DatasetError, match="not 'valid'"):
        load_medmnist("bloodmnist", tmp_path, "valid")


def test_medmnist_multilabel_refused(tmp_path):
    np.savez(tmp_path / "chestmnist.npz", train_images=_u8(2, 28, 28), train_labels=np.zeros((2, 14), np.uint8))
    with pytest.raises(DatasetError, match="multi-label"):
        load_medmnist("chestmnist", tmp_path)


# ---------------------------------------------------------------- image folders

@pytest.fixture
def class_tree(tmp_path):
    root = tmp_path / "tree"
    (root / "cat").mkdir(parents=True)
    (root / "dog" / "sub").mkdir(parents=True)
    Image.fromarray(_u8(8, 8, 3)).save(root / "cat" / "a.png")
    Image.fromarray(_u8(8, 8, 3)).save(root / "cat" / "b.jpg", quality=95)
    Image.fromarray(_u8(8, 8)).save(root / "dog" / "c.png")                 # grayscale among RGB
    Image.fromarray(_u8(8, 8, 3)).save(root / "dog" / "sub" / "d.PNG")       # nested, upper-case suffix
    (root / "dog" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")   # corrupt
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


def test_image_folder_classes_labels_and_skipped(class_tree):
    data, skipped = read_image_folder(class_tree)
    assert data.images.shape == (4, 3, 8, 8) and data.images.dtype == torch.uint8
    assert data.class_names == ["cat", "dog"] and data.labels.tolist() == [0, 0, 1, 1]
    assert [Path(p).name for p, _ in skipped] == ["bad.png"] and skipped[0][1]
    gray = data.images[2]
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])


def test_image_folder_options(class_tree):
    assert read_image_folder(class_tree, channels=1)[0].images.shape == (4, 1, 8, 8)
    capped = read_image_folder(class_tree, max_per_class=1)[0]
    assert capped.labels.tolist() == [0, 1]
    Image.fromarray(_u8(5, 7, 3)).save(class_tree / "cat" / "big.png")
    with pytest.raises(DatasetError, match="differ in size.*size="):
        read_image_folder(class_tree)
    assert read_image_folder(class_tree, size=6)[0].images.shape == (5, 3, 6, 6)


def test_image_folder_with_nothing_readable(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="no readable image"):
        read_image_folder(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        read_image_folder(tmp_path / "missing")


def test_unlabeled_folder(class_tree):
    data = load_unlabeled_folder(class_tree / "dog", channels=1)
    assert data.labels is None and data.images.shape == (2, 1, 8, 8)


def test_registry_image_folder_split_and_path(class_tree, tmp_path):
    split_root = tmp_path / "splits"
    (split_root / "test").mkdir(parents=True)
    os.replace(class_tree, split_root / "test" / "tree")
    with pytest.warns(UserWarning, match="1 file"):
        by_name = load_dataset("image-folder", "test", data_dir=split_root / "test" / "tree", size=4)
    with pytest.warns(UserWarning):
        by_path = load_dataset(str(split_root), "test")          # data_dir/test holds the classes
    assert by_name.images.shape == (4, 3, 4, 4) and by_path.class_names == ["tree"]


def test_registry_errors_and_defaults(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match="known: fashion-mnist"):
        load_dataset("imagenet-9000")
    with pytest.raises(ConfigurationError, match="channels"):
        load_dataset("cifar10", data_dir=tmp_path, channels=1)
    assert {"fashion-mnist", "mnist", "cifar10", "svhn", "bloodmnist", "image-folder", "isic2017"} <= set(DATASETS)
    monkeypatch.setenv("IMAGEPRIVACY_DATA", str(tmp_path))
    (tmp_path / "svhn").mkdir()
    assert default_data_dir("svhn") == tmp_path / "svhn"
    assert default_data_dir("pathmnist") == tmp_path / "medmnist"
    assert default_data_dir("image-folder") is None


# ---------------------------------------------------------------- ISIC 2017

def test_isic2017(tmp_path):
    images = tmp_path / "ISIC-2017_Training_Data"
    images.mkdir()
    for i, (h, w) in enumerate([(20, 30), (24, 24), (18, 26)]):
        Image.fromarray(_u8(h, w, 3)).save(images / f"ISIC_000000{i}.jpg")
    (tmp_path / "ISIC-2017_Training_Part3_GroundTruth.csv").write_text(
        "image_id,melanoma,seborrheic_keratosis\nISIC_0000000,0.0,0.0\nISIC_0000001,1.0,0.0\n"
        "ISIC_0000002,0.0,1.0\nISIC_0000009,1.0,0.0\n")
    data, skipped = read_isic2017(tmp_path, "train", size=16)
    assert data.images.shape == (3, 3, 16, 16) and data.labels.tolist() == [0, 1, 2]
    assert data.class_names[1] == "melanoma" and Path(skipped[0][0]).name == "ISIC_0000009.jpg"
    with pytest.raises(DatasetError, match="ISIC-2017_Validation_Part3_GroundTruth.csv"):
        read_isic2017(tmp_path, "val")


# ---------------------------------------------------------------- ImageSet reproducibility

def test_split_and_random_subset_reproducible():
    data = ImageSet(torch.from_numpy(_u8(20, 1, 2, 2)), torch.arange(20) % 4, name="toy")
    a1, b1 = data.split(0.75, seed=3)
    a2, b2 = data.split(0.75, seed=3)
    assert len(a1) == 15 and torch.equal(a1.labels, a2.labels) and torch.equal(b1.images, b2.images)
    assert torch.equal(data.random_subset(5, seed=1).images, data.random_subset(5, seed=1).images)
    assert not torch.equal(data.random_subset(5, seed=1).images, data.random_subset(5, seed=2).images)
