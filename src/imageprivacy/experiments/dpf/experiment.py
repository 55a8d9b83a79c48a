"""The DPF experiment (Guo et al., sections 3-4): train Phi, psi and P, release, then evaluate.

    train_dpf_run(cfg, run_dir)     Phi on S (private classes), psi (px2s2) on Q (public classes),
                                    then P on S; writes release/ and private/ (see run.py)
    evaluate_dpf_run(run_dir)       Tables 1-4, Fig. 7, section 3.2.3, 4.4 and reusability ->
                                    results.json + images.safetensors
"""
from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import torch

from imageprivacy.attacks.dpf.reconstructors import STRAW_MAN
from imageprivacy.data.class_partition import ClassPartition
from imageprivacy.errors import CheckpointError
from imageprivacy.experiments.dpf.evaluation import evaluate_trained_run
from imageprivacy.experiments.dpf.run import (DPF_FIELDS, DPFExperimentConfig, TrainedRun, dpf_config,
                                              load_partition, read_config, run_key, write_config)
from imageprivacy.experiments.dpf.stages import (decoder_refresher, decoder_stages, dpf_stage, phi_stage,
                                                 reconstructor_stage)
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.nets.split_points import BackboneSpec, feature_shape, split_at
from imageprivacy.protections.dpf import write_private, write_release
from imageprivacy.training.feature_training import map_batches


def _stages(cfg: DPFExperimentConfig, run_dir: Path, parts: ClassPartition, progress) -> TrainedRun:
    key = run_key(cfg)
    s = parts.private_train.images
    spec = BackboneSpec(cfg.backbone, s.channels, len(parts.private_classes), cfg.width)
    split_at(spec.build(), cfg.hook)             # a bad hook fails here, before any training
    progress("stage", {"stage": f"Phi: {cfg.backbone} on the private classes"})
    net, phi_history = phi_stage(run_dir / "work" / "phi.safetensors", key, spec, s, parts.private_val.images, cfg,
                                 progress, cfg.seed)
    split = split_at(net, cfg.hook)
    shape = feature_shape(split.featurizer, tuple(s.images.shape[1:]))
    progress("stage", {"stage": f"psi ({STRAW_MAN}) on the public classes, features at {cfg.hook} {shape}"})
    psi, psi_history = reconstructor_stage(run_dir / "private" / "reconstructor.safetensors", key, STRAW_MAN,
                                           split.featurizer, shape, parts.public_train.images.images, cfg.psi_epochs,
                                           cfg, progress, cfg.seed + 1)
    q = parts.public_train.images.images
    decoders, decoder_histories = decoder_stages(run_dir / "work" / "decoders", key, cfg, split.featurizer, shape, q,
                                                 psi, progress, cfg.seed + 3)
    progress("stage", {"stage": f"P: the deep poisoning function on the private classes, against "
                                f"{', '.join(cfg.dpf_decoders)} ({cfg.dpf_objective})"})
    about = {"hook": cfg.hook, "backbone": asdict(spec)}
    refresh = decoder_refresher(cfg, split.featurizer, shape, q, progress, cfg.seed + 4)
    poison, dpf_history = dpf_stage(run_dir / "private" / "poisoning_function.safetensors", run_key(cfg, *DPF_FIELDS),
                                    dpf_config(cfg, shape[0]), split.featurizer, split.classifier, decoders, s.images,
                                    s.labels, cfg, progress, cfg.seed + 2, extra=about, refresh=refresh)
    histories = {"phi": phi_history, "psi": psi_history, "decoders": decoder_histories, "dpf": dpf_history}
    return TrainedRun(cfg, parts, spec, net, split, shape, psi, poison, histories, decoders)


def train_dpf_run(cfg: DPFExperimentConfig, run_dir: str | Path, progress=None) -> Path:
    """Train (or resume) the run and write release/ and private/; returns the release folder."""
    progress = progress or (lambda event, values: None)
    run_dir = Path(run_dir)
    write_config(cfg, run_dir)
    parts = load_partition(cfg)
    run = _stages(cfg, run_dir, parts, progress)
    key, about = run_key(cfg), {"hook": cfg.hook, "backbone": asdict(run.spec)}
    write_private(run_dir / "private", run.poison, run.psi,
                  {"run": run_key(cfg, *DPF_FIELDS), "history": run.histories["dpf"], **about},
                  {"run": key, "history": run.histories["psi"], **about})
    progress("stage", {"stage": "release: poisoned features of the private training images"})
    s = parts.private_train
    bank = map_batches(lambda x: run.poison(run.split.featurizer(x)), s.images.images, cfg.device,
                       out_dtype=getattr(torch, cfg.bank_dtype))
    release = write_release(run_dir / "release", run.split, run.spec, cfg.hook, tuple(s.images.images.shape[1:]),
                            bank, s.images.labels, s.ids, s.images.class_names, source=s.source,
                            withheld=[run.poison])
    write_results({"experiment": "dpf-train", "config": cfg.to_dict(), "sizes": parts.sizes(),
                   "feature_shape": list(run.feature_shape), "histories": run.histories, **provenance(cfg.device)},
                  run_dir / "training.json")
    return release


def load_trained_run(run_dir: str | Path, progress=None, device: str | None = None) -> TrainedRun:
    """The trained stages of a run folder; CheckpointError when `dpf train` has not finished there.

    `device` overrides the device of the run's config (results do not depend on it beyond float noise).
    """
    run_dir = Path(run_dir)
    cfg = read_config(run_dir)
    cfg = replace(cfg, device=device) if device else cfg
    missing = [p for p in ("work/phi.safetensors", "private/reconstructor.safetensors",
                           "private/poisoning_function.safetensors", "release/manifest.json")
               if not (run_dir / p).is_file()]
    if missing:
        raise CheckpointError(f"{run_dir} lacks {', '.join(missing)}: run `imageprivacy dpf train` to finish it")
    return _stages(cfg, run_dir, load_partition(cfg), progress or (lambda event, values: None))


def evaluate_dpf_run(run_dir: str | Path, progress=None, device: str | None = None) -> dict:
    """Every evaluation of the paper on a trained run; writes and returns results.json."""
    progress = progress or (lambda event, values: None)
    run_dir = Path(run_dir)
    run = load_trained_run(run_dir, progress, device)
    results = evaluate_trained_run(run, run_dir, progress)
    results.update(provenance(run.cfg.device))
    write_results(results, run_dir / "results.json")
    return results
