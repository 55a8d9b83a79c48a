"""The byproduct term L_B of the DPF loss (paper eq. 7), one function per objective.

- "ssim" (the paper's eq. 6): SSIM(psi(P(f)), x), minimised as it is. It can go below zero, and issue 16
  measured where that leads: psi drew the negative image (SSIM -0.226, 0.401 to 1 - x), which an attacker
  flips back. Kept for the paper's numbers.
- "decorrelation" (issue 16, the default): what an attacker scores (metrics.attacker_side) cannot be won by
  inversion or by an intensity remap, so neither may the loss:
      |corr(r, x)| + ssim_weight * (relu(SSIM(r, x)) + relu(SSIM(1 - r, x)))
  with r = psi(P(f)), corr the Pearson correlation over each image's pixels (unchanged by any a * r + b with
  a != 0, so by negation and by every affine remap), and SSIM to the image from the output and from its
  negative, each penalised only above zero (a negative SSIM is no better than zero for hiding: it is the other
  sign's job to catch it). Its optimum, 0, is an output that shares no structure with the image either way.
- "random-labels" (paper 4.4): CE(byproduct(P(f)), t), t a wrong label drawn once per image.
Every term is a mean over the batch; the training loop averages it over the frozen byproduct models.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from imageprivacy.metrics.reconstruction import per_image_ssim


def pearson_correlation(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(N,) Pearson correlation of each pair of images over all their pixels; 0 where either is constant."""
    a, b = a.flatten(1), b.flatten(1)
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / ((a.pow(2).sum(1) * b.pow(2).sum(1)).sqrt() + eps)


def ssim_term(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return per_image_ssim(recon, x).mean()


def decorrelation_term(recon: torch.Tensor, x: torch.Tensor, ssim_weight: float) -> torch.Tensor:
    corr = pearson_correlation(recon, x).abs().mean()
    if ssim_weight == 0:
        return corr
    both_signs = F.relu(per_image_ssim(recon, x)) + F.relu(per_image_ssim(1.0 - recon, x))
    return corr + ssim_weight * both_signs.mean()


def random_label_term(logits: torch.Tensor, private: torch.Tensor, random_draw: torch.Tensor) -> torch.Tensor:
    k = logits.shape[1]
    target = (private + 1 + random_draw % max(1, k - 1)) % k      # uniform over the other k - 1 labels
    return F.cross_entropy(logits, target)
