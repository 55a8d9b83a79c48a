"""The DeepObfuscator experiment (Li et al., sections 3-4): train, then attack with fresh attackers.

    train_obfuscator_run(cfg, run_dir)      pretraining (3.5), Algorithm 1; writes the deployed O and C
    evaluate_obfuscator_run(run_dir)        the settings below, each attacked from scratch -> results.json
                                            (release_only: the main setting alone, what `Obfuscator.load` gives)

Settings: "deepobfuscator" (lambda1, lambda2 of the config); baselines "no_adversarial" (the
pretrained O + C) and "noise" (Gaussian noise on the raw image, image_noise); ablations
"defend_ar_only" (lambda1 = 0) and "defend_ac_only" (lambda2 = 0) of section 4.2; "lambda=<v>"
(lambda1 = lambda2 = v) for the trade-off curve, all from the same pretrained modules and with the
config's levers (ensemble, resets, feature noise, attribute loss); and "feature_noise=<s>", O + C trained
with noise of std s at O's output and no adversary: the noise-only baseline of the privacy-utility curve
(privacy_utility.py).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from imageprivacy.data.attribute_task import guessing_level
from imageprivacy.errors import CheckpointError
from imageprivacy.experiments.obfuscator.evaluation import (GRID_COLUMNS, content_free, evaluate_setting,
                                                            reconstruction_floor, task_accuracy, test_features)
from imageprivacy.experiments.obfuscator.privacy_utility import privacy_utility
from imageprivacy.experiments.obfuscator.run import ObfuscatorExperimentConfig, load_split, read_config, write_config
from imageprivacy.experiments.obfuscator.stages import (ObfuscatorRun, adversarial_stage, adversaries_stage,
                                                        feature_noise_stage, noise_stage, pretrained_stage)
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams
from imageprivacy.protections.obfuscator import ImageNoise, calibrate_noise_std, save_classifier
from imageprivacy.protections.obfuscator.obfuscator import CLASSIFIER_FILE, OBFUSCATOR_FILE
from imageprivacy.experiments.run_folder import save_rows

MAIN = "deepobfuscator"


def _quiet(event, values) -> None:
    return None


def open_run(cfg: ObfuscatorExperimentConfig, run_dir: Path, record: bool) -> ObfuscatorRun:
    split = load_split(cfg, run_dir, record)
    images = split.defender.images
    params = MSSSIMParams.for_size(*images.shape[2:])
    return ObfuscatorRun(cfg, run_dir, split, cfg.arch(images.shape[1], tuple(images.shape[2:])), params)


def _main_stages(run: ObfuscatorRun, progress):
    cfg = run.cfg
    progress("stage", {"stage": "pretraining O + C on the intended task (no privacy)"})
    pretrained, pre_history = pretrained_stage(run, progress)
    progress("stage", {"stage": "pretraining AR and AC on the frozen obfuscator"})
    adversaries, adv_history = adversaries_stage(run, pretrained, progress)
    progress("stage", {"stage": f"Algorithm 1, lambda1 {cfg.lambda_attribute}, lambda2 {cfg.lambda_reconstruction}"})
    main, main_history = adversarial_stage(run, run.run_dir / "work" / "adversarial.safetensors", adversaries,
                                           cfg.lambda_attribute, cfg.lambda_reconstruction, progress)
    return adversaries, main, {"pretraining": pre_history, "adversaries": adv_history, "adversarial": main_history}


def train_obfuscator_run(cfg: ObfuscatorExperimentConfig, run_dir: str | Path, progress=None) -> Path:
    """Train (or resume) the run; writes RUN_DIR/obfuscator.safetensors and classifier.safetensors."""
    progress, run_dir = progress or _quiet, Path(run_dir)
    write_config(cfg, run_dir)
    run = open_run(cfg, run_dir, record=True)
    _, main, histories = _main_stages(run, progress)
    main.obfuscator.save(run_dir)
    save_classifier(run_dir, main.classifier, run.about)
    write_results({"experiment": "deepobfuscator-train", "config": cfg.to_dict(), "sizes": run.split.sizes(),
                   "split_digest": run.split.digest(), "feature_shape": list(run.arch.feature_shape()),
                   "ms_ssim_parameters": run.params.to_dict(), "histories": histories, **provenance(cfg.device)},
                   run_dir / "training.json")
    return run_dir


def _side_settings(cfg: ObfuscatorExperimentConfig) -> list[tuple[str, str, float, float]]:
    """(name, kind, lambda1, lambda2) of every adversarially trained setting besides the main one."""
    found = []
    if cfg.ablations:
        found += [("defend_ar_only", "ablation", 0.0, cfg.lambda_reconstruction),
                  ("defend_ac_only", "ablation", cfg.lambda_attribute, 0.0)]
    found += [(f"lambda={v:g}", "curve", v, v) for v in cfg.lambdas]
    # A setting with the main one's lambdas is the main one (e.g. both ablations when lambda1 = lambda2 = 0).
    main = (cfg.lambda_attribute, cfg.lambda_reconstruction)
    return [s for s in found if s[2:] != main]


def _about_run(run: ObfuscatorRun) -> dict:
    """What results.json says besides the settings: config, seeds, metric parameters, split, chance levels."""
    cfg, s = run.cfg, run.split
    refs = content_free(run)
    return {"experiment": "deepobfuscator", "config": cfg.to_dict(),
            "seeds": {"split": cfg.seed, "pretraining": cfg.seed, "adversaries": cfg.seed + 1,
                      "adversarial": cfg.seed + 2, "noise_image": cfg.seed + 3, "noise_baseline": cfg.seed + 4,
                      "noise_calibration": cfg.seed + 5, "feature_noise_baseline": cfg.seed + 6,
                      "feature_noise": cfg.seed + 7, "ensemble": cfg.seed + 9, "test_noise": cfg.seed + 9,
                      "attribute_attacker": cfg.seed + 10, "reconstructors": cfg.seed + 11,
                      "attacker_validation_slice": cfg.seed + 12},
            "ms_ssim_parameters": run.params.to_dict(), "sizes": s.sizes(), "split_digest": s.digest(),
            "feature_shape": list(run.arch.feature_shape()), "arch": run.arch.to_dict(),
            "task": {"spec": s.task.spec, "names": s.task.names, "attributes": list(s.task.attributes)},
            "private": {"spec": s.private.spec, "names": s.private.names, "attributes": list(s.private.attributes)},
            "guessing": guessing_level(s.defender.task, s.defender.private, s.test.task, s.test.private,
                                       s.private.attributes),
            "content_free": refs, "reconstruction_floor": reconstruction_floor(refs)}


def evaluate_obfuscator_run(run_dir: str | Path, progress=None, device: str | None = None,
                            release_only: bool = False) -> dict:
    """Every evaluation of section 4 on a trained run; writes and returns results.json.

    `release_only` attacks the main setting alone, with every reconstructor of the config: the attack on what
    is released, without the baselines, ablations and curves (their attackers are cached, so a later full
    evaluation reuses these). results.json's config then says which settings were left out."""
    progress, run_dir = progress or _quiet, Path(run_dir)
    cfg = read_config(run_dir)
    cfg = replace(cfg, device=device) if device else cfg
    if release_only:
        cfg = replace(cfg, ablations=False, noise_baseline=False, lambdas=(), curve_feature_noise=())
    missing = [f for f in (OBFUSCATOR_FILE, CLASSIFIER_FILE, "work/adversarial.safetensors")
               if not (run_dir / f).is_file()]
    if missing:
        raise CheckpointError(f"{run_dir} lacks {', '.join(missing)}: run `imageprivacy obfuscator train` to finish it")
    run = open_run(cfg, run_dir, record=False)
    adversaries, main, histories = _main_stages(run, progress)
    s = run.split
    results = {**_about_run(run), "training": histories, "settings": {}}
    grid = {"raw": s.test.images[:GRID_COLUMNS].float() / 255.0}

    def score(name, kind, featurize, classifier, reconstructors, key_values, simulated=None, **about):
        result, rows = evaluate_setting(run, name, featurize, classifier, reconstructors, key_values, progress,
                                        simulated)
        results["settings"][name] = {"kind": kind, **about, **result}
        grid.update(rows)

    lambdas = {"lambda_attribute": cfg.lambda_attribute, "lambda_reconstruction": cfg.lambda_reconstruction}
    score(MAIN, "deepobfuscator", main.obfuscator, main.classifier, cfg.reconstructors, lambdas, main, **lambdas)
    # The pretrained AR and AC sit on the same, untouched O: the simulated attackers of this baseline.
    if not release_only:
        score("no_adversarial", "baseline", adversaries.obfuscator, adversaries.classifier, cfg.reconstructors, {},
              adversaries)
    else:       # no attackers, but the task target needs the model without privacy
        results["no_privacy_task_accuracy"] = task_accuracy(run, test_features(run, adversaries.obfuscator),
                                                            adversaries.classifier)
    results["release_only"] = release_only
    if cfg.noise_baseline:
        noise = calibrate_noise_std(s.training_part("defender").images, cfg.noise_threshold, run.params, cfg.seed + 5)
        results["noise_baseline"] = noise
        grid["noisy input"] = ImageNoise(noise["std"], torch.Generator().manual_seed(cfg.seed + 9))(grid["raw"])
        progress("stage", {"stage": f"noise baseline: O + C on images with noise std {noise['std']}"})
        noisy, _ = noise_stage(run, noise["std"], progress)
        score("noise", "baseline", nn.Sequential(ImageNoise(noise["std"]), noisy.obfuscator), noisy.classifier,
              cfg.reconstructors, {"noise_std": noise["std"]}, noise_std=noise["std"])
    for name, kind, l1, l2 in _side_settings(cfg):
        progress("stage", {"stage": f"{name}: Algorithm 1 with lambda1 {l1}, lambda2 {l2}"})
        net, _ = adversarial_stage(run, run_dir / "eval" / name / "modules.safetensors", adversaries, l1, l2, progress)
        values = {"lambda_attribute": l1, "lambda_reconstruction": l2}
        score(name, kind, net.obfuscator, net.classifier, cfg.side_reconstructors, values, net, **values)
    for std in cfg.curve_feature_noise:
        progress("stage", {"stage": f"noise-only baseline: O + C with noise std {std:g} at O's output"})
        net, _ = feature_noise_stage(run, std, progress)
        score(f"feature_noise={std:g}", "feature-noise", net.obfuscator, net.classifier, cfg.side_reconstructors,
              {"feature_noise_std": std}, feature_noise=std)
    curve = [(v["lambda_attribute"], name) for name, v in results["settings"].items()
             if v["kind"] in ("deepobfuscator", "curve") and v["lambda_attribute"] == v["lambda_reconstruction"]]
    results["curve"] = [{"lambda": lam, "setting": name} for lam, name in sorted(curve)]
    results["privacy_utility"] = privacy_utility(results)
    results["image_grid"] = save_rows(grid, run_dir / "images.safetensors")
    results.update(provenance(cfg.device))
    write_results(results, run_dir / "results.json")
    return results
