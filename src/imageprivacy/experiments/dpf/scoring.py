"""Every DPF reconstruction score, raw and as the attacker would report it, and the content-free references.

An attacker holds their reconstructor and their public images Q, so the intensity remap of
metrics.attacker_side is fitted on the reconstructor's output from phi1(Q-val) against Q-val (for the
section 3.2.3 attacker, from P(phi1(Q-val)): that attacker holds P). The private images S-val never enter the
fit. Each score row keeps the raw L1 / SSIM / SSIM to the negative image of the paper's tables, adds raw
MS-SSIM and PSNR, and under "attacker_side" the best of raw, negative, remapped and contrast-stretched output
per metric ("attacker_variant" says which won).
"""
from __future__ import annotations

from typing import Callable

import torch

from imageprivacy.attacks.reconstructor_training import reconstruct
from imageprivacy.experiments.dpf.run import TrainedRun
from imageprivacy.metrics.attacker_side import IntensityRemap, attacker_side_scores
from imageprivacy.metrics.content_free import content_free_references, label_mean_images
from imageprivacy.metrics.reconstruction import reconstruction_scores
from imageprivacy.training.feature_training import map_batches

CLASS_MEAN = "mean image of the right class"


def public_remap(model, featurize: Callable, public_images: torch.Tensor, device) -> IntensityRemap:
    """The remap the attacker fits on their own pairs: model(featurize(Q-val)) against Q-val (uint8 images)."""
    features = map_batches(featurize, public_images, device)
    return IntensityRemap.fit(reconstruct(model, features, device), public_images.float() / 255.0)


def scores(recon: torch.Tensor, images: torch.Tensor, remap: IntensityRemap) -> dict:
    """One row: raw scores of [0, 1] `recon` against uint8 `images`, and the attacker-side best."""
    x = images.float() / 255.0
    side = attacker_side_scores(recon, x, remap)
    return {**reconstruction_scores(recon, x), "ms_ssim": side["raw"]["ms_ssim"], "psnr_db": side["raw"]["psnr_db"],
            "attacker_side": side["best"], "attacker_variant": side["best_variant"], "remap": side["remap"]}


def reconstructor_scores(model, features: torch.Tensor, images: torch.Tensor, remap: IntensityRemap,
                         device) -> tuple[dict, torch.Tensor]:
    """(row, reconstructions) of `model` from a feature bank of the uint8 `images`."""
    recon = reconstruct(model, features, device)
    return scores(recon, images, remap), recon


def content_free(run: TrainedRun) -> dict:
    """The references on S-val: blank, best constant, the mean public image (Q-train), and the mean S-train image
    of each S-val image's class (what the released labels alone would let anyone draw, had they such images)."""
    parts = run.parts
    val, s = parts.private_val.images, parts.private_train.images
    means = label_mean_images(s.images, s.labels, int(max(s.labels.max(), val.labels.max())) + 1)
    return content_free_references(val.float(), parts.public_train.images.images, label_means=means,
                                   target_labels=val.labels, label_name=CLASS_MEAN)
