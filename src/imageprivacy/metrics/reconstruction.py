"""How close a reconstruction is to the image it came from: per-image L1 and SSIM on [0, 1] images.

One SSIM serves as the DPF's training loss and as the evaluation metric, so the number the
poisoning function minimises is the number reported. It is torchmetrics' SSIM (differentiable)
with data_range=1.0 always (docs/background.md section 3: left as None it is inferred per batch and not
comparable across batches) and a Gaussian window of 11 pixels, sigma 1.5 (Wang et al. 2004);
images under 12 pixels a side get the largest odd window that fits, sigma scaled alike, the rule
of `imageprivacy.metrics.image_quality`.
"""
from __future__ import annotations

import torch

from imageprivacy.errors import InputShapeError
from torchmetrics.functional.image import structural_similarity_index_measure


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.dim() != 4 or pred.shape != target.shape or len(pred) == 0:
        raise InputShapeError(f"need two non-empty (N, C, H, W) batches of one shape, got "
                              f"{tuple(pred.shape)} and {tuple(target.shape)}")


def per_image_ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) SSIM of each image pair in [0, 1]; differentiable in `pred`."""
    _check_pair(pred, target)
    k = min(11, (min(pred.shape[2:]) - 1) | 1)
    return structural_similarity_index_measure(pred, target, data_range=1.0, kernel_size=k,
                                               sigma=1.5 * k / 11, reduction="none")


def per_image_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) mean absolute pixel difference of each image pair."""
    _check_pair(pred, target)
    return (pred - target).abs().flatten(1).mean(1)


@torch.no_grad()
def reconstruction_scores(recon: torch.Tensor, original: torch.Tensor) -> dict[str, float]:
    """Mean per-image L1 (higher = worse reconstruction) and SSIM (lower = worse) of a batch.

    `ssim_to_inverted` is the SSIM against the negative image 1 - x: a poisoning function that only
    minimises SSIM may drive it below zero by making reconstructions look like negatives, which
    still show the content; a high value here would say so.
    """
    recon, original = recon.float(), original.float()
    return {"l1": per_image_l1(recon, original).mean().item(),
            "ssim": per_image_ssim(recon, original).mean().item(),
            "ssim_to_inverted": per_image_ssim(recon, 1.0 - original).mean().item(),
            "images": len(recon)}
