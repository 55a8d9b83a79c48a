"""Content-free references: what "reconstructions" that know nothing of each image score on the same images.

A reconstruction score means something only next to these. Fashion-MNIST is mostly black background, so an
all-black image already scores SSIM ~0.18-0.28 against the real one (issue 16), and features that must keep a
label let any attacker draw at least the mean image of that label. Each reference is scored with
`attacker_side.image_scores` (L1, SSIM, MS-SSIM, PSNR) on the images the attackers are scored on:
- "blank (all black)": zeros;
- "best constant": for each metric the grey level (of CONSTANT_LEVELS) that scores best on these images, the
  level kept in `levels` (chosen on the scored images: a floor should not be underestimated);
- "mean public image": the mean of the attacker's own images;
- a label's mean image (DPF: of the right class; DeepObfuscator: of the right coarse group), when given: the
  mean of images of each label, drawn for every scored image by its label.
"""
from __future__ import annotations

import torch

from imageprivacy.errors import InputShapeError
from imageprivacy.metrics.attacker_side import METRICS, better, image_scores
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams

CONSTANT_LEVELS = tuple(k / 16 for k in range(17))
BLANK, CONSTANT, PUBLIC_MEAN = "blank (all black)", "best constant", "mean public image"


def label_mean_images(images: torch.Tensor, labels: torch.Tensor, num_labels: int) -> torch.Tensor:
    """(num_labels, C, H, W) mean [0, 1] image of each label (uint8 or float images); the overall mean where a
    label has no image."""
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    overall = x.mean(0)
    return torch.stack([x[labels == k].mean(0) if (labels == k).any() else overall for k in range(num_labels)])


def _best_constant(targets: torch.Tensor, params: MSSSIMParams | None) -> dict:
    scores, levels = {}, {}
    for level in CONSTANT_LEVELS:
        measured = image_scores(torch.full_like(targets, level), targets, params)
        for metric in METRICS:
            if metric not in scores or better(metric, measured[metric], scores[metric]):
                scores[metric], levels[metric] = measured[metric], level
    return {**scores, "levels": levels}


@torch.no_grad()
def content_free_references(targets: torch.Tensor, public_images: torch.Tensor, params: MSSSIMParams | None = None,
                            label_means: torch.Tensor | None = None, target_labels: torch.Tensor | None = None,
                            label_name: str = "mean image of the right class") -> dict[str, dict]:
    """{reference name: scores} on [0, 1] `targets`; `public_images` (uint8 or [0, 1]) give the mean public image;
    `label_means` (from `label_mean_images`) with each target's label give the label's mean image."""
    targets = targets.float()
    if (label_means is None) != (target_labels is None):
        raise InputShapeError("a label's mean image needs both the label means and the label of every target")
    public = public_images.float() / 255.0 if public_images.dtype == torch.uint8 else public_images.float()
    refs = {BLANK: image_scores(torch.zeros_like(targets), targets, params),
            CONSTANT: _best_constant(targets, params),
            PUBLIC_MEAN: image_scores(public.mean(0, keepdim=True).expand_as(targets), targets, params)}
    if label_means is not None:
        refs[label_name] = image_scores(label_means[target_labels], targets, params)
    return refs


def best_reference(refs: dict[str, dict], metric: str) -> tuple[str, float] | None:
    """(name, score) of the reference closest to the images under `metric`: the floor an attacker must beat."""
    found = None
    for name, scores in refs.items():
        value = scores.get(metric)
        if value is not None and (found is None or better(metric, value, found[1])):
            found = (name, value)
    return found
