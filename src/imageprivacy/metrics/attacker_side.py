"""Reconstruction scores as an attacker would report them: the best of the raw output, its negative, and an
affine intensity remap a * x + b fitted on the attacker's own public data.

A reconstructor's output can be post-processed for free. An attacker who sees dark garments on a light ground
flips them (1 - x): issue 16 measured a DPF whose straw-man reconstructor scored SSIM -0.226 and 0.401 to the
negative image. One whose outputs are washed out stretches them. So a raw SSIM below a floor proves nothing; the
score that counts is the best an attacker gets from what they may do:
- "raw": the reconstruction as it is;
- "negative": 1 - x;
- "affine": clamp(a * x + b, 0, 1), a and b fitted by least squares over every pixel of the attacker's OWN pairs
  (their reconstructor's output on their public images, those images). The private images being scored never
  enter the fit (`IntensityRemap.fit` is called by the experiments on public pairs only);
- "stretch": each output's own contrast stretched, its 5th percentile to 0 and its 95th to 1 (clamped). It needs
  no fit: it is what anyone does to a dark, faint picture. The global remap cannot do it, since one a, b serves
  every image: on the default DPF run, whose fresh px4s2 drew dark silhouettes, it lifted the attacker-side SSIM
  from 0.253 to 0.409 (docs/results/dpf-default/results.json against report_before_stretch.md there).
Which of the four counts is then chosen per metric on the scored images: the largest SSIM, MS-SSIM and PSNR,
the smallest L1. That choice is the evaluator's pessimism (an upper bound over four candidates, none fitted to
the private targets), and `best_variant` says which one won.

Every score is the mean of per-image values on [0, 1] images with data_range 1.0: SSIM as
`metrics.reconstruction` (window 11, sigma 1.5; smaller for small images), MS-SSIM and PSNR as
`metrics.multiscale_ssim`, L1 the mean absolute pixel difference. Images too small for a 3-scale MS-SSIM
(under 12 pixels a side) get `ms_ssim` None.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from imageprivacy.errors import InputShapeError
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams, per_image_msssim, per_image_psnr
from imageprivacy.metrics.reconstruction import per_image_l1, per_image_ssim

METRICS = ("l1", "ssim", "ms_ssim", "psnr_db")
HIGHER_IS_CLOSER = {"l1": False, "ssim": True, "ms_ssim": True, "psnr_db": True}
VARIANTS = ("raw", "negative", "affine", "stretch")
STRETCH_QUANTILES = (0.05, 0.95)
STRETCH_TEXT = (f"each output's own contrast stretch ({STRETCH_QUANTILES[0]:.0%} to {STRETCH_QUANTILES[1]:.0%} "
                "quantile)")              # the reports' words for "stretch", from the quantiles it uses


@dataclass(frozen=True)
class IntensityRemap:
    """x -> clamp(scale * x + offset, 0, 1), one scale and offset for every pixel and channel."""
    scale: float = 1.0
    offset: float = 0.0

    @classmethod
    @torch.no_grad()
    def fit(cls, reconstructions: torch.Tensor, targets: torch.Tensor) -> "IntensityRemap":
        """Least squares of targets on reconstructions over all pixels (float64). Call it on public pairs only."""
        if reconstructions.shape != targets.shape or len(reconstructions) == 0:
            raise InputShapeError(f"IntensityRemap.fit needs two non-empty batches of one shape, got "
                                  f"{tuple(reconstructions.shape)} and {tuple(targets.shape)}")
        r, t = reconstructions.double().flatten(), targets.double().flatten()
        variance = r.var(unbiased=False)
        if variance <= 1e-12:                      # a constant output: the best remap is the targets' mean
            return cls(0.0, t.mean().item())
        scale = ((r - r.mean()) * (t - t.mean())).mean() / variance
        return cls(scale.item(), (t.mean() - scale * r.mean()).item())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (self.scale * x + self.offset).clamp(0.0, 1.0)

    def to_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def contrast_stretch(images: torch.Tensor, quantiles: tuple[float, float] = STRETCH_QUANTILES) -> torch.Tensor:
    """Each image mapped so that its `quantiles` go to 0 and 1, clamped; a flat image stays as it is."""
    flat = images.float().flatten(1)
    q = torch.quantile(flat, torch.tensor(quantiles, dtype=flat.dtype, device=flat.device), dim=1)
    low, span = q[0], q[1] - q[0]
    shape = (-1,) + (1,) * (images.dim() - 1)
    stretched = ((images.float() - low.view(shape)) / span.clamp_min(1e-6).view(shape)).clamp(0.0, 1.0)
    return torch.where((span > 1e-6).view(shape), stretched, images.float())


def _params_for(images: torch.Tensor, params: MSSSIMParams | None) -> MSSSIMParams | None:
    if params is not None:
        return params
    try:
        return MSSSIMParams.for_size(*images.shape[2:])
    except InputShapeError:                      # documented above: too small for 3 scales
        return None


@torch.no_grad()
def image_scores(pred: torch.Tensor, target: torch.Tensor, params: MSSSIMParams | None = None,
                 batch_size: int = 512) -> dict[str, float | None]:
    """Mean per-image L1, SSIM, MS-SSIM and PSNR (dB) of `pred` against `target` ([0, 1] float, one shape)."""
    if pred.dim() != 4 or pred.shape != target.shape or len(pred) == 0:
        raise InputShapeError(f"need two non-empty (N, C, H, W) batches of one shape, got {tuple(pred.shape)} and "
                              f"{tuple(target.shape)}")
    params = _params_for(pred, params)
    sums = dict.fromkeys(METRICS, 0.0)
    for s in range(0, len(pred), batch_size):
        p, t = pred[s:s + batch_size].float(), target[s:s + batch_size].float()
        sums["l1"] += per_image_l1(p, t).sum().item()
        sums["ssim"] += per_image_ssim(p, t).sum().item()
        sums["psnr_db"] += per_image_psnr(p, t).sum().item()
        if params is not None:
            sums["ms_ssim"] += per_image_msssim(p, t, params).sum().item()
    scores = {name: value / len(pred) for name, value in sums.items()}
    if params is None:
        scores["ms_ssim"] = None
    return scores


def better(metric: str, a: float | None, b: float | None) -> bool:
    """Whether score `a` is closer to the image than `b` under `metric` (None is never closer)."""
    if a is None:
        return False
    if b is None:
        return True
    return a > b if HIGHER_IS_CLOSER[metric] else a < b


@torch.no_grad()
def attacker_side_scores(reconstructions: torch.Tensor, targets: torch.Tensor, remap: IntensityRemap,
                         params: MSSSIMParams | None = None) -> dict:
    """{variant: scores for each of VARIANTS, "best": scores, "best_variant": {metric: variant}, "remap", "images"}.

    `remap` must come from `IntensityRemap.fit` on the attacker's public pairs (module docstring).
    """
    recon = reconstructions.float()
    clamped = recon.clamp(0.0, 1.0)
    variants = {"raw": clamped, "negative": 1.0 - clamped, "affine": remap(recon), "stretch": contrast_stretch(clamped)}
    scored = {name: image_scores(images, targets.float(), params) for name, images in variants.items()}
    best, chosen = {}, {}
    for metric in METRICS:
        winner = "raw"
        for name in VARIANTS[1:]:
            if better(metric, scored[name][metric], scored[winner][metric]):
                winner = name
        best[metric], chosen[metric] = scored[winner][metric], winner
    return {**scored, "best": best, "best_variant": chosen, "remap": remap.to_dict(), "images": len(recon)}
