"""Draw the mixture generator's patterns so that they carry none of the classes' real features.

Why: a class's pattern that correlates with that class's mean image is a shortcut that also teaches
the real task. Template matching, argmax_k <x - mean, P_k>, measures it: on the clean test images it
read 27 % for patterns learned through the frozen f, 32 % for patterns learned against a from-scratch
surrogate, and 7-18 % for random sign draws, and the 60k paper victims ended in the same order
(docs/results.md, "Why the learned patterns protect less than random ones"). Random draws differ a
lot in this, and a protector can measure it on its own images before any training: so `fit` draws
`pattern_draws` candidate sets and keeps the one whose template match on the images it will protect is
the lowest. The candidates are judged as `protect` writes them (eval mode: signs at full budget, tiled,
mirrored when the config says so).
"""
from __future__ import annotations

import torch
from torch import nn

SAMPLE = 10_000          # images the match is counted on: enough for +-0.5 % at 10 classes, a second of CPU


@torch.no_grad()
def template_match(generator: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of uint8 `images` whose label's pattern correlates most with the image minus the images' mean."""
    return _match_of_centred(generator, centred_images(images), labels)


def centred_images(images: torch.Tensor) -> torch.Tensor:
    x = images.float() / 255.0
    return x - x.mean(0, keepdim=True)


def _match_of_centred(generator: nn.Module, centred: torch.Tensor, labels: torch.Tensor) -> float:
    was_training = generator.training
    generator.eval()
    patterns = generator.tiled_patterns(centred.shape[2], centred.shape[3]).to(centred.dtype).cpu()
    generator.train(was_training)
    return (torch.einsum("nchw,kchw->nk", centred, patterns).argmax(1) == labels).float().mean().item()


@torch.no_grad()
def draw_least_aligned_patterns(generator: nn.Module, images: torch.Tensor, labels: torch.Tensor, draws: int,
                                seed: int) -> dict:
    """Set `generator.patterns` to the least aligned of `draws` random draws; the record of the choice.

    Every rank of a torchrun job makes the same choice: the draws come from `seed` and the match is
    counted on the same first SAMPLE images. The kept draw replaces the generator's initial patterns.
    """
    # Centred once: the 64 candidates are judged against the same images.
    centred, labels = centred_images(images[:SAMPLE].cpu()), labels[:SAMPLE].cpu()
    # Every candidate comes from `seed` alone, not from the generator's own initialisation: under torchrun
    # the global random stream differs between ranks by the time the generator is built.
    gen = torch.Generator().manual_seed(seed)
    shape, device = generator.patterns.shape, generator.patterns.device
    best, best_match, matches = None, float("inf"), []
    for _ in range(draws):
        candidate = (generator.cfg.pattern_init * torch.randn(shape, generator=gen)).to(device)
        generator.patterns.copy_(candidate)
        matches.append(_match_of_centred(generator, centred, labels))
        if matches[-1] < best_match:
            best, best_match = candidate, matches[-1]
    generator.patterns.copy_(best)
    return {"draws": draws, "template_match": best_match, "first_draw_match": matches[0],
            "median_match": float(torch.tensor(matches).median())}
