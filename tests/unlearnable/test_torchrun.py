"""`torchrun --nproc_per_node 2` on the CPU (gloo): train-generator, evaluate and fit emn against one process.

Each command runs in one launch (audited_command.py logs each rank's writes), then in this process.
The settings involve no BatchNorm and no random augmentation (the direct generator with a linear f
and D's term off, the linear victim, EMN with a linear surrogate), so the two runs agree to float
rounding; tests/test_distributed.py checks the mixture generator and class-wise EMN across ranks.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import safetensors.torch

import imageprivacy
from conftest import make_imageset, write_image_folder
from imageprivacy.cli import main
from imageprivacy.protections import load_protection

pytestmark = pytest.mark.distributed

ENTRY = Path(__file__).with_name("audited_command.py")
GAN = ["--kind", "direct", "--width", "4", "--f-arch", "linear", "--f-epochs", "0", "--adv-weight", "0",
       "--epochs", "2", "--fit-batch-size", "16", "--quiet"]
EMN = [f"--option={o}" for o in ("surrogate_arch=linear", "max_rounds=2", "train_steps=3", "steps=2",
                                 "fit_batch_size=16")] + ["--quiet"]


def commands(data: Path, out: Path) -> list[list[str]]:
    return [["train-generator", str(data), "--out", str(out / "gen.safetensors"), *GAN],
            ["evaluate", "--train", str(data), "--test", str(data), "--recipe", "linear", "--epochs", "2",
             "--out", str(out / "eval.json"), "--quiet"],
            ["fit", "emn", str(data), "--out", str(out / "emn.safetensors"), *EMN]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("torchrun")
    # 120 images: 8 batches of 16 per epoch, the last of 8 (4 per rank).
    data = write_image_folder(make_imageset(n=120, classes=4, seed=3), root / "data")
    launched, single, logs = root / "launched", root / "single", root / "logs"
    logs.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(imageprivacy.__file__).parents[1])}
    printed = ""
    for command in commands(data, launched):
        argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                str(ENTRY), str(launched), str(logs), *command]
        process = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
        assert process.returncode == 0, process.stderr[-3000:]
        printed += process.stdout
    for command in commands(data, single):
        assert main(command) == 0
    return data, launched, single, logs, printed


def test_only_rank_0_writes_and_prints(runs):
    _, launched, _, logs, stdout = runs
    renamed = set()
    for verb in ("train-generator", "evaluate", "fit"):
        rank0, rank1 = (json.loads((logs / f"{verb}-rank{r}.json").read_text()) for r in range(2))
        assert rank0["code"] == rank1["code"] == 0
        assert rank1["writes"] == [], verb
        renamed |= {Path(path).name for event, path in rank0["writes"] if event == "os.rename"}
    assert renamed == {"gen.safetensors", "eval.json", "emn.safetensors"}
    assert sorted(p.name for p in launched.iterdir()) == sorted(renamed)        # no leftover .tmp files
    assert stdout.count("generator: ") == stdout.count("checkpoint: ") == 1
    assert stdout.count("clean test accuracy per epoch") == 1


def test_the_generator_matches_one_process(runs):
    data, launched, single, _, _ = runs
    from imageprivacy.data import load_dataset

    images = load_dataset(str(data)).images.float() / 255
    noise = [load_protection(folder / "gen.safetensors").protect(images) - images for folder in (launched, single)]
    # Float rounding only (the order of the gradient sums): measured 1.2e-7 on noise of scale 16/255.
    assert (noise[0] - noise[1]).abs().max() < 1e-6 and noise[1].abs().max() > 8 / 255


def test_the_victim_matches_one_process(runs):
    _, launched, single, _, _ = runs
    two, one = (json.loads((folder / "eval.json").read_text()) for folder in (launched, single))
    assert two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-6)     # measured: equal
    assert two["test_acc"] == pytest.approx(one["test_acc"], abs=1 / 120)     # at most one image flips
    assert two["train_size"] == one["train_size"] == 120


def test_sample_wise_emn_matches_one_process(runs):
    _, launched, single, _, _ = runs
    two, one = (safetensors.torch.load_file(folder / "emn.safetensors") for folder in (launched, single))
    assert two.keys() == one.keys() == {"linear.weight", "linear.bias"}
    # The noise update is shared out image by image and put together exactly: measured 2e-8.
    assert all((two[k] - one[k]).abs().max() < 1e-6 for k in one)
