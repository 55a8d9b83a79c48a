"""The DeepObfuscator experiment end to end on tiny data: train, evaluate (resumable), report, encode, CLI."""
import argparse
import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import make_imageset, write_fashion_mnist
from imageprivacy.cli.obfuscator import commands as obfuscator_command
from imageprivacy.data.class_groups import FASHION_MNIST_GROUPS, format_groups
from imageprivacy.errors import CheckpointError, ConfigurationError
from imageprivacy.experiments.obfuscator.experiment import evaluate_obfuscator_run, train_obfuscator_run
from imageprivacy.experiments.obfuscator.experiment import _side_settings
from imageprivacy.experiments.obfuscator.run import PAPER, ObfuscatorExperimentConfig, check_code_batches, read_config
from imageprivacy.obfuscator import Obfuscator, read_features
from imageprivacy.report.obfuscator.report import write_obfuscator_report
from imageprivacy.report.obfuscator.targets import check_targets


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    """make_imageset data (1x16x16, 4 classes) as Fashion-MNIST IDX files, so the real loader runs."""
    return write_fashion_mnist(tmp_path_factory.mktemp("fmnist"), make_imageset(n=64, seed=0),
                               make_imageset(n=24, seed=1))


def tiny_config(idx_dir, **changes) -> ObfuscatorExperimentConfig:
    # The paper's game (lambda 1, a feature map), shrunk: what most tests below exercise.
    values = dict(PAPER, data="fashion-mnist", data_dir=str(idx_dir), task="0,1/2,3", private="class", defender_size=48,
                  attacker_size=16, test_size=None, width=4, depth=1, hidden=16, batch_size=12, pretrain_epochs=1,
                  adversary_epochs=1, adversarial_epochs=1, attack_epochs=2, attack_patience=1, lambdas=(0.5,),
                  curve_feature_noise=(0.3,),
                  reconstructors=("mirror", "resrec"))          # all four are built in test_obfuscator_nets
    return ObfuscatorExperimentConfig(**{**values, **changes})


@pytest.fixture(scope="module")
def trained_run(idx_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("obfuscator-run")
    train_obfuscator_run(tiny_config(idx_dir), run_dir)
    return run_dir


@pytest.fixture(scope="module")
def results(trained_run):
    return evaluate_obfuscator_run(trained_run)


def test_train_writes_the_deployed_files(trained_run, idx_dir):
    assert read_config(trained_run) == tiny_config(idx_dir)
    obfuscator = Obfuscator.load(trained_run)
    assert obfuscator.about["task"] == "0,1/2,3" and obfuscator.feature_shape == (8, 4, 4)
    assert (trained_run / "classifier.safetensors").is_file()
    assert json.loads((trained_run / "split.json").read_text())["sizes"] == {"defender": 48, "attacker": 16, "test": 24}


def test_evaluate_writes_results_and_resumes(trained_run, results):
    saved = json.loads((trained_run / "results.json").read_text())
    assert saved["experiment"] == "deepobfuscator" and saved["versions"]["torchmetrics"]
    assert saved["ms_ssim_parameters"]["scales"] == 3 and saved["ms_ssim_parameters"]["data_range"] == 1.0
    assert set(results["settings"]) == {"deepobfuscator", "no_adversarial", "noise", "defend_ar_only",
                                        "defend_ac_only", "lambda=0.5", "feature_noise=0.3"}
    main = results["settings"]["deepobfuscator"]
    assert set(main["reconstructors"]) == {"mirror", "resrec"}
    assert set(results["settings"]["defend_ar_only"]["reconstructors"]) == {"mirror"}
    # the fresh mirror attacker is trained anew on the frozen features, not the simulated AR reused
    assert main["reconstructors"]["mirror"]["ms_ssim"] != main["simulated_adversaries"]["reconstructor"]["ms_ssim"]
    noise = results["noise_baseline"]          # the calibrated noise makes the input as unrecognisable as asked
    assert noise["met"] and noise["ms_ssim"] <= noise["threshold"]
    assert results["guessing"]["given_task"] == pytest.approx(0.5)            # quadrant given its row
    assert 0 < results["noise_baseline"]["std"] and "simulated_adversaries" in main
    assert [c["lambda"] for c in results["curve"]] == [0.5, 1.0]
    # fresh attackers: the attacker part less a held-out slice, early-stopped, with their curves
    history = main["private_attacker"]["history"]
    assert len(history["val_acc"]) == history["early_stopping"]["epochs_run"] <= 2
    for r in main["reconstructors"].values():
        assert r["attacker_side"]["ms_ssim"] >= r["ms_ssim"] and len(r["training"]["val_loss"]) >= 1
        assert set(r["attacker_variant"].values()) <= {"raw", "negative", "affine", "stretch"}
    refs = results["content_free"]
    assert set(refs) == {"blank (all black)", "best constant", "mean public image", "mean image of the right group"}
    assert results["reconstruction_floor"]["task_mean_image"] == refs["mean image of the right group"]
    curve = results["privacy_utility"]
    assert [p["knob"] for p in curve["series"]["DeepObfuscator"]] == [0.5, 1.0]
    assert [p["knob"] for p in curve["series"]["noise only"]] == [0.3]
    none = curve["series"]["no defence"][0]
    assert none["leakage"]["private_accuracy"] == results["settings"]["no_adversarial"]["private_attacker"]["accuracy"]
    assert curve["measures"][0]["floor"] == results["guessing"]["given_task"]
    assert results["image_grid"]["rows"][0] == "raw" and (trained_run / "images.safetensors").is_file()
    stamp = (trained_run / "eval" / "deepobfuscator" / "resrec.safetensors").stat().st_mtime_ns
    again = evaluate_obfuscator_run(trained_run)       # every stage cached: same numbers, nothing retrained
    assert (trained_run / "eval" / "deepobfuscator" / "resrec.safetensors").stat().st_mtime_ns == stamp
    assert again["settings"] == results["settings"]


def test_report_and_targets(trained_run, results):
    report = write_obfuscator_report(trained_run).read_text()
    for heading in ("Targets (issue 16)", "Tables 3 and 4", "Section 4.2", "Trade-off", "Fig. 4", "sigma 0.4091",
                    "attacker-side", "content-free", "Fresh attackers", "Privacy-utility curve"):
        assert heading in report
    for figure in ("obfuscator_images", "obfuscator_privacy_utility", "obfuscator_attacker_accuracy",
                   "obfuscator_reconstructor_curves"):
        assert (trained_run / f"{figure}.png").stat().st_size > 1000

    def rec(raw, side, variant="raw"):
        return {"ms_ssim": raw, "attacker_side": {"ms_ssim": side}, "attacker_variant": {"ms_ssim": variant}}
    main = {"reconstructors": {"mirror": rec(0.5, 0.55), "urec1": rec(0.3, 0.6, "negative")},
            "private_attacker": {"accuracy": 0.43}, "task_accuracy": {"accuracy": 0.95}}
    fake = {"guessing": {"given_task": 0.40}, "reconstruction_floor": {"task_mean_image": {"ms_ssim": 0.51}},
            "settings": {"deepobfuscator": main, "no_adversarial": {"reconstructors": {"mirror": rec(0.9, 0.9)},
                                                                    "task_accuracy": {"accuracy": 0.96}}}}
    checks = check_targets(fake)
    # a negative that scores 0.60 is above the group mean's 0.51 + 0.05, though its raw 0.30 looked safe
    assert [c.met for c in checks] == [True, True, False]
    assert "urec1 0.6000 (negative; raw 0.3000)" in checks[2].measured
    fake["settings"]["deepobfuscator"]["reconstructors"]["urec1"] = rec(0.3, 0.56)
    assert check_targets(fake)[2].met


def test_cli_encode_skips_bad_images_and_evaluate_needs_training(trained_run, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="imageprivacy")
    obfuscator_command.add_parser(parser.add_subparsers(dest="command", required=True))
    images = tmp_path / "phone"
    images.mkdir()
    Image.fromarray(np.full((20, 30), 200, dtype=np.uint8)).save(images / "a.png")
    Image.fromarray(np.zeros((16, 16, 3), dtype=np.uint8)).save(images / "b.jpg")
    (images / "c.png").write_bytes(b"broken")
    args = parser.parse_args(["obfuscator", "encode", str(trained_run), str(images), str(tmp_path / "f.safetensors")])
    assert args.run(args) == 1
    assert "c.png" in capsys.readouterr().err
    features, names, meta = read_features(tmp_path / "f.safetensors")
    assert names == ["a.png", "b.jpg"] and features.shape == (2, 8, 4, 4) and meta["skipped"][0][0].endswith("c.png")
    x = torch.full((1, 1, 16, 16), 200 / 255)
    assert torch.allclose(features[0], Obfuscator.load(trained_run)(x)[0], atol=1e-5)
    empty = tmp_path / "empty"
    empty.mkdir()
    args = parser.parse_args(["obfuscator", "evaluate", str(empty)])
    with pytest.raises(CheckpointError):
        args.run(args)


def test_fashion_mnist_needs_no_flags():
    parser = argparse.ArgumentParser(prog="imageprivacy")
    obfuscator_command.add_parser(parser.add_subparsers(dest="command", required=True))
    cfg = obfuscator_command.config_from_args(parser.parse_args(["obfuscator", "train", "fashion-mnist", "--out", "x"]))
    assert cfg == ObfuscatorExperimentConfig()
    # The default is the measured release (docs/obfuscator.md): 2 numbers under noise, the task alone.
    assert (cfg.code, cfg.feature_noise, cfg.lambda_attribute, cfg.defender_size, cfg.attacker_size) == (
        2, 0.25, 0.0, 10_000, None)
    paper = obfuscator_command.config_from_args(parser.parse_args(["obfuscator", "train", "fashion-mnist", "--out",
                                                                   "x", "--paper"]))
    assert paper == ObfuscatorExperimentConfig(**PAPER) and (paper.width, paper.code, paper.lr) == (64, 0, 1e-4)
    mixed = obfuscator_command.config_from_args(parser.parse_args(["obfuscator", "train", "fashion-mnist", "--out",
                                                                   "x", "--paper", "--width", "8", "--lambda1", "0",
                                                                   "--defender-size", "0"]))
    assert (mixed.width, mixed.lambda_attribute, mixed.lambda_reconstruction, mixed.depth) == (8, 0.0, 1.0, 3)
    assert mixed.defender_size is None
    assert (cfg.task, cfg.private) == (format_groups(FASHION_MNIST_GROUPS), "class")
    assert ObfuscatorExperimentConfig(data="celeba").private == "Male"
    small = parser.parse_args(["obfuscator", "train", "fashion-mnist", "--out", "x", "--lambdas", "",
                               "--reconstructors", "mirror,resrec", "--defender-size", "0"])
    cfg = obfuscator_command.config_from_args(small)
    assert cfg.lambdas == () and cfg.reconstructors == ("mirror", "resrec") and cfg.defender_size is None
    with pytest.raises(SystemExit):
        parser.parse_args(["obfuscator", "train", "x", "--out", "y", "--reconstructors", "unet"])


def test_levers_train_an_ensemble_with_noisy_features_that_the_release_keeps(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, adversaries=2, reset_every=2, reset_warmup_steps=1, feature_noise=0.2,
                      attribute_loss="guessing-hinge", adversarial_epochs=2, ablations=False, noise_baseline=False,
                      lambdas=(), curve_feature_noise=(), reconstructors=("mirror",))
    train_obfuscator_run(cfg, tmp_path)
    training = json.loads((tmp_path / "training.json").read_text())["histories"]["adversarial"]
    assert training["resets"] == [[1, 1]]          # K = 2, R = 2: staggered, member 1 at epoch 1, member 0 at 2
    deployed = Obfuscator.load(tmp_path)
    assert deployed.noise.std == 0.2
    x = torch.rand(3, 1, 16, 16)
    assert not torch.equal(deployed(x), deployed(x))                     # a fresh draw on every call
    assert torch.equal(Obfuscator.load(tmp_path, noise_seed=5)(x), Obfuscator.load(tmp_path, noise_seed=5)(x))
    assert "seed" not in json.dumps(read_features_meta(tmp_path, deployed))
    results = evaluate_obfuscator_run(tmp_path)
    assert results["config"]["feature_noise"] == 0.2 and set(results["settings"]) == {"deepobfuscator",
                                                                                       "no_adversarial"}


def read_features_meta(run_dir, obfuscator) -> dict:
    """The metadata the deployed obfuscator's file holds (what its holder learns)."""
    from imageprivacy.nets.weights_file import read_tensors
    return read_tensors(run_dir / "obfuscator.safetensors", "deepobfuscator-obfuscator")[1]


def test_a_code_refuses_part_sizes_that_end_in_a_batch_of_one():
    sizes = {"defender": 129, "attacker": 100, "test": 10}
    check_code_batches(ObfuscatorExperimentConfig(batch_size=64, code=0), sizes)  # no code: a feature map trains
    with pytest.raises(ConfigurationError, match="--batch-size 65"):
        check_code_batches(ObfuscatorExperimentConfig(batch_size=64, code=2), sizes)
    with pytest.raises(ConfigurationError, match="attacker training part \\(91 images\\)"):
        check_code_batches(ObfuscatorExperimentConfig(batch_size=10, code=2), {**sizes, "defender": 120, "attacker": 101})
    check_code_batches(ObfuscatorExperimentConfig(batch_size=64, code=2), {**sizes, "defender": 130})


def test_a_config_written_before_a_field_existed_reads_as_it_ran():
    old = ObfuscatorExperimentConfig(**PAPER).to_dict()
    for later in ("code", "feature_noise", "bottleneck", "adversaries"):
        del old[later]
    cfg = ObfuscatorExperimentConfig.from_dict(old)
    assert (cfg.code, cfg.feature_noise, cfg.bottleneck, cfg.adversaries) == (0, 0.0, 0, 1)
    assert cfg == ObfuscatorExperimentConfig(**PAPER)
    assert ObfuscatorExperimentConfig.from_dict(ObfuscatorExperimentConfig().to_dict()) == ObfuscatorExperimentConfig()


def test_side_settings_skip_those_that_repeat_the_main_one():
    default = ObfuscatorExperimentConfig()              # lambda 0: both ablations are the main setting itself
    assert [s[0] for s in _side_settings(default)] == ["lambda=1"]
    paper = ObfuscatorExperimentConfig(**{**PAPER, "lambdas": (0.1, 1.0)})
    assert [s[0] for s in _side_settings(paper)] == ["defend_ar_only", "defend_ac_only", "lambda=0.1"]


def test_release_only_attacks_the_main_setting_and_reuses_its_attackers(trained_run, results, tmp_path):
    import shutil
    run = shutil.copytree(trained_run, tmp_path / "run")
    released = evaluate_obfuscator_run(run, release_only=True)
    assert set(released["settings"]) == {"deepobfuscator"} and released["release_only"]
    assert released["settings"]["deepobfuscator"]["reconstructors"] == results["settings"]["deepobfuscator"]["reconstructors"]
    assert (released["config"]["lambdas"], released["config"]["ablations"]) == ([], False)
    assert released["no_privacy_task_accuracy"] == results["settings"]["no_adversarial"]["task_accuracy"]
    assert any(c.target.startswith("intended-task") for c in check_targets(released))
    assert "Release only" in write_obfuscator_report(run).read_text()
