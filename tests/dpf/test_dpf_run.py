"""The DPF experiment end to end on tiny data, the release bundle, and the refusal to release P."""
import json

import numpy as np
import pytest
import torch

from conftest import make_imageset, write_fashion_mnist
from imageprivacy.dpf import Release, UnsafeReleaseError
from imageprivacy.errors import CheckpointError, UnknownHookError
from imageprivacy.experiments.dpf.experiment import evaluate_dpf_run, train_dpf_run
from imageprivacy.experiments.dpf.run import DPFExperimentConfig, read_config
from imageprivacy.nets.split_points import BackboneSpec, build_split
from imageprivacy.protections.dpf import DeepPoisoningFunction, DPFConfig, write_private, write_release


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    """make_imageset data (1x16x16, 4 classes) as Fashion-MNIST IDX files, so the real loader runs."""
    return write_fashion_mnist(tmp_path_factory.mktemp("fmnist"), make_imageset(n=96, seed=0),
                               make_imageset(n=48, seed=1))


def tiny_config(idx_dir, **changes) -> DPFExperimentConfig:
    values = dict(data="fashion-mnist", data_dir=str(idx_dir), private_classes=(0, 1), public_classes=(2, 3),
                  hook="conv3_1", backbone="resnet18", width=4, private_train_size=32, private_val_size=16,
                  public_train_size=32, public_val_size=16, phi_epochs=1, psi_epochs=1, dpf_epochs=1,
                  attack_epochs=1, phi3_epochs=1, batch_size=16, unseen_reconstructors=("rx4s4", "rx2s2-c"),
                  stationary=("gaussian-noise",), hook_depths=("conv2_3", "conv4_1"), coarse_groups=((0, 1), (2, 3)))
    return DPFExperimentConfig(**{**values, **changes})


@pytest.fixture(scope="module")
def trained_run(idx_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("dpf-run")
    train_dpf_run(tiny_config(idx_dir), run_dir)
    return run_dir


def test_train_writes_release_private_and_config(trained_run, idx_dir):
    assert sorted(p.name for p in (trained_run / "release").iterdir()) == [
        "classifier.safetensors", "features.safetensors", "featurizer.safetensors", "manifest.json"]
    assert {"poisoning_function.safetensors", "reconstructor.safetensors"} <= {
        p.name for p in (trained_run / "private").iterdir()}
    assert read_config(trained_run) == tiny_config(idx_dir)
    manifest = json.loads((trained_run / "release" / "manifest.json").read_text())
    assert manifest["hook"] == "conv3_1" and manifest["feature_shape"] == [8, 8, 8]
    assert manifest["source"] == "fashion-mnist/train" and manifest["class_names"] == ["T-shirt/top", "Trouser"]


def test_release_holds_no_poisoning_function_weights(trained_run):
    poison, _ = DeepPoisoningFunction.load(trained_run / "private" / "poisoning_function.safetensors")
    secret = [p.detach() for p in poison.parameters() if p.numel() > 1 and p.min() != p.max()]
    from safetensors.torch import load_file
    for file in (trained_run / "release").glob("*.safetensors"):
        for name, tensor in load_file(str(file)).items():
            assert not any(t.shape == tensor.shape and torch.equal(t, tensor) for t in secret), (file, name)
    assert "poison" not in (trained_run / "release" / "manifest.json").read_text()


def test_release_load_round_trip(trained_run, idx_dir):
    release = Release.load(trained_run / "release")
    assert release.features.dtype == torch.float16 and release.features.shape[1:] == (8, 8, 8)
    assert len(release.features) == len(release.labels) == len(release.image_ids) == 32
    x = torch.rand(2, 1, 16, 16)
    assert release.classifier(release.featurizer(x)).shape == (2, 2)
    # image ids index the train split: their labels there are the released labels (private classes 0, 1)
    train_labels = torch.from_numpy(np.frombuffer(
        (idx_dir / "train-labels-idx1-ubyte").read_bytes()[8:], dtype=np.uint8).copy())
    assert torch.equal(train_labels[release.image_ids].long(), release.labels)
    with pytest.raises(CheckpointError):
        Release.load(trained_run / "private")


def test_writer_refuses_to_release_p(tmp_path):
    split = build_split(BackboneSpec("resnet18", 1, 2, 4), "conv3_1")
    poison = DeepPoisoningFunction(DPFConfig(channels=8))
    torch.nn.init.normal_(poison.blocks[0].body[0].weight)
    bank = dict(image_shape=(1, 16, 16), features=torch.rand(4, 8, 8, 8), labels=torch.zeros(4, dtype=torch.long),
                image_ids=torch.arange(4), class_names=["a", "b"])
    spec = BackboneSpec("resnet18", 1, 2, 4)
    leaky = split._replace(featurizer=torch.nn.Sequential(split.featurizer, poison))
    with pytest.raises(UnsafeReleaseError, match="DeepPoisoningFunction"):
        write_release(tmp_path / "release", leaky, spec, "conv3_1", withheld=[poison], **bank)
    # a plain module that carries a copy of P's weights is caught as well
    copy = torch.nn.Sequential(split.classifier, torch.nn.Conv2d(8, 2, 1, bias=False))
    copy[1].weight.data = poison.blocks[0].body[0].weight.detach().clone()
    with pytest.raises(UnsafeReleaseError, match="withheld"):
        write_release(tmp_path / "release", split._replace(classifier=copy), spec, "conv3_1", withheld=[poison],
                      **bank)
    with pytest.raises(UnsafeReleaseError, match="private"):
        write_release(tmp_path / "private", split, spec, "conv3_1", **bank)
    write_release(tmp_path / "release", split, spec, "conv3_1", withheld=[poison], **bank)
    with pytest.raises(UnsafeReleaseError):
        write_private(tmp_path / "release", poison, torch.nn.Identity())
    assert not (tmp_path / "release" / "poisoning_function.safetensors").exists()


def test_bad_hook_fails_before_training(idx_dir, tmp_path):
    with pytest.raises(UnknownHookError, match="conv2_2"):
        train_dpf_run(tiny_config(idx_dir, hook="conv2_3"), tmp_path)
    assert not (tmp_path / "work").exists()


def test_evaluate_writes_every_table_and_resumes(trained_run):
    results = evaluate_dpf_run(trained_run)
    saved = json.loads((trained_run / "results.json").read_text())
    assert saved["experiment"] == "dpf" and saved["versions"]["torch"] and saved["seeds"]["phi"] == 0
    n = results["sizes"]["private_val"]
    for side in ("original", "poisoned"):
        top = results["classification"][side]
        # two private classes: top-5 holds every class; top-1 counts whole images of S-val, all of them scored
        assert top["top5"] == 1.0 and abs(top["top1"] * n - round(top["top1"] * n)) < 1e-9
        assert results["reconstruction"][side]["images"] == n
    # phi2 on the original features is Phi itself, which the reusability table scores on the same images
    assert results["classification"]["original"]["top1"] == results["reusability"]["phi"]["top1"]
    assert set(results["unseen_reconstructors"]) == {"px2s2 (psi)", "rx4s4", "rx2s2-c"}
    assert set(results["stationary"]["rows"]) == {"w/o", "DPF", "GN", "GN+DPF"}
    assert "skipped" in results["hook_depth"]["conv2_3"]
    assert results["hook_depth"]["conv4_1"]["feature_shape"] == [16, 4, 4]
    assert set(results["reusability"]["phi3"]) >= {"new_images", "poisoned"}
    assert set(results["secondary_attack"]) == {"obfuscator_released", "partial_release_best"}
    assert set(results["random_labels"]["attacker_fine_top1"]) == {"straw_man", "fresh"}
    refs = results["content_free"]
    assert set(refs) == {"blank (all black)", "best constant", "mean public image", "mean image of the right class"}
    assert refs["best constant"]["ssim"] >= refs["blank (all black)"]["ssim"] > 0
    for name, row in results["unseen_reconstructors"].items():
        side = row["poisoned"]["attacker_side"]
        assert side["ssim"] >= row["poisoned"]["ssim"] and side["l1"] <= row["poisoned"]["l1"] + 1e-9
        assert set(row["poisoned"]["attacker_variant"].values()) <= {"raw", "negative", "affine", "stretch"}
        if name != "px2s2 (psi)":         # the attackers trained until their validation L1 stopped falling
            training = row["training"]
            assert len(training["val_l1"]) == training["early_stopping"]["epochs_run"] >= 1
    curve = results["privacy_utility"]
    assert [p["knob"] for p in curve["series"]["DPF"]] == [0.1, 0.3, 1.0, 3.0]
    assert [p["knob"] for p in curve["series"]["noise only"]] == [0.25, 0.5, 1.0, 2.0]
    none = curve["series"]["no defence"][0]
    assert none["task_accuracy"] == results["classification"]["original"]["top1"]
    assert none["leakage"]["ssim"] == max(r["original"]["attacker_side"]["ssim"]
                                          for r in results["unseen_reconstructors"].values())
    assert curve["measures"][0]["floor"] == max(r["ssim"] for r in refs.values())
    assert (trained_run / "eval" / "curve" / "lambda=0.1.safetensors").is_file()
    assert (trained_run / "work" / "decoders" / "u32.safetensors").is_file()
    assert len(results["training"]["dpf"]["byproduct_each"][0]) == 2          # psi and u32
    assert (trained_run / "images.safetensors").is_file() and results["image_grid"]["rows"][0] == "raw"
    stamp = (trained_run / "eval" / "reconstructors" / "rx4s4.safetensors").stat().st_mtime_ns
    again = evaluate_dpf_run(trained_run)     # every stage cached: same numbers, no file retrained
    assert (trained_run / "eval" / "reconstructors" / "rx4s4.safetensors").stat().st_mtime_ns == stamp
    assert again["unseen_reconstructors"] == results["unseen_reconstructors"]


def test_cli_train_resumes_then_evaluate_writes_the_report(trained_run, idx_dir, tmp_path, capsys):
    import argparse
    import shutil

    from imageprivacy.cli.dpf import commands as dpf_command

    run_dir = tmp_path / "copy"
    shutil.copytree(trained_run, run_dir)
    parser = argparse.ArgumentParser(prog="imageprivacy")
    dpf_command.add_parser(parser.add_subparsers(dest="command", required=True))
    stamp = (run_dir / "work" / "phi.safetensors").stat().st_mtime_ns
    args = parser.parse_args(["dpf", "train", "fashion-mnist", "--data-dir", str(idx_dir), "--out", str(run_dir),
                              "--width", "4", "--private-classes", "0,1", "--public-classes", "2,3",
                              "--private-train-size", "32", "--private-val-size", "16", "--public-train-size", "32",
                              "--public-val-size", "16", "--phi-epochs", "1", "--psi-epochs", "1", "--dpf-epochs", "1",
                              "--attack-epochs", "1", "--phi3-epochs", "1", "--batch-size", "16", "--unseen", "rx4s4",
                              "--stationary", "mean-filter", "--hook-depths", "", "--coarse-groups", "none",
                              "--no-secondary-attack", "--quiet"])
    assert args.run(args) == 0
    assert (run_dir / "work" / "phi.safetensors").stat().st_mtime_ns == stamp      # Phi was not retrained
    args = parser.parse_args(["dpf", "evaluate", str(run_dir), "--quiet"])
    assert args.run(args) == 0
    assert "report:" in capsys.readouterr().out
    report = (run_dir / "report.md").read_text()
    for heading in ("Targets (issue 16)", "Table 1", "Table 2", "Table 3", "Reusability", "Fig. 6", "attacker-side",
                    "content-free", "validation L1 stops falling", "Privacy-utility curve"):
        assert heading in report
    assert (run_dir / "dpf_privacy_utility.png").stat().st_size > 1000
    assert (run_dir / "dpf_attacker_curves.png").stat().st_size > 1000
    assert "Table 4" not in report and "4.4" not in report and (run_dir / "dpf_images.png").stat().st_size > 1000
    with pytest.raises(SystemExit):
        parser.parse_args(["dpf", "train", "fashion-mnist", "--out", "x", "--private-classes", "a,b"])


def test_targets_are_checked_against_the_issue_thresholds():
    from imageprivacy.report.dpf.targets import check_targets

    def scores(raw, attacker, variant="raw"):
        return {"l1": 0.1, "ssim": raw, "attacker_side": {"ssim": attacker}, "attacker_variant": {"ssim": variant}}
    results = {"classification": {"original": {"top1": 0.90}, "poisoned": {"top1": 0.895}},
               "content_free": {"blank (all black)": {"ssim": 0.18, "l1": 0.3}, "best constant": {"ssim": 0.20}},
               "reconstruction": {"original": scores(0.7, 0.7), "poisoned": scores(-0.2, 0.21, "negative")},
               "unseen_reconstructors": {"px2s2 (psi)": {"original": scores(0.7, 0.7), "poisoned": scores(0.1, 0.1)},
                                         "rx4s4": {"original": scores(0.6, 0.6), "poisoned": scores(0.2, 0.25)}},
               "reusability": {"phi": {"top1": 0.90}, "phi3": {"new_images": {"top1": 0.85}}}}
    checks = check_targets(results)
    # psi drew negatives: raw -0.2, but flipped 0.21, within 0.02 of the best constant's 0.20; rx4s4 is not
    assert [c.met for c in checks] == [True, False, True, False]
    assert "rx4s4 0.2500" in checks[1].measured and "best constant 0.2000" in checks[1].measured
    assert "negative" in checks[2].measured and "raw -0.2000" in checks[2].measured
    results["unseen_reconstructors"]["rx4s4"]["poisoned"] = scores(0.2, 0.219)
    assert check_targets(results)[1].met
    del results["content_free"]
    assert check_targets(results)[1].met is None


def test_fashion_mnist_needs_no_flags():
    import argparse

    from imageprivacy.cli.dpf import commands as dpf_command

    parser = argparse.ArgumentParser(prog="imageprivacy")
    dpf_command.add_parser(parser.add_subparsers(dest="command", required=True))
    cfg = dpf_command.config_from_args(parser.parse_args(["dpf", "train", "fashion-mnist", "--out", "x"]))
    assert cfg == DPFExperimentConfig()
    assert cfg.dpf_objective == "decorrelation" and cfg.dpf_decoders == ("px2s2", "u32")
    assert "u64" in cfg.unseen_reconstructors
    paper = parser.parse_args(["dpf", "train", "fashion-mnist", "--out", "x", "--dpf-objective", "ssim",
                               "--dpf-decoders", "px2s2", "--curve-lambdas", "", "--curve-noise", ""])
    cfg = dpf_command.config_from_args(paper)
    assert (cfg.dpf_objective, cfg.dpf_decoders, cfg.curve_lambdas, cfg.curve_noise) == ("ssim", ("px2s2",), (), ())
    with pytest.raises(ValueError, match="reconstructor"):
        DPFExperimentConfig(dpf_decoders=("px2s2", "unet"))
    with pytest.raises(ValueError, match="attack_val_fraction"):
        DPFExperimentConfig(attack_val_fraction=1.0)
