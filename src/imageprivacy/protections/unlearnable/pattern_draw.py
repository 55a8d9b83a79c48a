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

Each candidate gives every class its own sign code (`distinct_codes`): with coarse patterns (2x2 blocks
of 14 pixels, 16 codes) ten random codes almost always repeat one, and two classes with one code are
one class to a victim. Where the codes allow it, no class's code is another's mirror image either, so a
victim's horizontal flip never turns one class's noise into another's.
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
        candidate = distinct_codes(generator.cfg.pattern_init * torch.randn(shape, generator=gen), gen,
                                   generator.cfg.mirror_patterns).to(device)
        generator.patterns.copy_(candidate)
        matches.append(_match_of_centred(generator, centred, labels))
        if matches[-1] < best_match:
            best, best_match = candidate, matches[-1]
    generator.patterns.copy_(best)
    return {"draws": draws, "template_match": best_match, "first_draw_match": matches[0],
            "median_match": float(torch.tensor(matches).median())}


@torch.no_grad()
def set_anti_template_patterns(generator: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                               threshold: float = 0.0) -> dict:
    """Class k's pattern := -sign(mean image of class k - mean image), at full resolution (one pixel a cell), and
    0 (no noise) where that difference is at most `threshold` in absolute value.

    Why: the least aligned random draw still left the paper victim learning the trouser from its shape
    (docs/results/victim-confusion/); a pattern that takes its class's own template away makes the class's
    protected images look less like the class, and was learnt from least of all: label-aware at 10k, paper
    victim 5 epochs, final 0.098 twice, against 0.189 / 0.350 for random 2x2 codes and 0.52-0.54 for the
    template added (docs/results/anti-template/). Needs a tile of the images' size (confounder_gan.py sets it).
    """
    x = images.float() / 255.0
    centred = torch.stack([x[labels == k].mean(0) for k in range(generator.patterns.shape[0])]) - x.mean(0)
    if centred.shape[1:] != generator.patterns.shape[1:]:
        raise ValueError(f"anti-template patterns need a tile of the images' shape {tuple(centred.shape[1:])}, "
                         f"the generator has {tuple(generator.patterns.shape[1:])}")
    signs = torch.sign(centred) * (centred.abs() > threshold)
    generator.patterns.copy_(-generator.cfg.pattern_init * signs.to(generator.patterns.device))
    return {"source": "anti-template", "threshold": threshold, "pixels_with_noise": float((signs != 0).float().mean()),
            "template_match": template_match(generator, images[:SAMPLE], labels[:SAMPLE])}


MAX_REDRAWS = 1_000


def distinct_codes(logits: torch.Tensor, gen: torch.Generator, mirrored: bool) -> torch.Tensor:
    """(K, C, n, n) pattern logits whose sign codes differ between classes, redrawing a class that repeats one.

    Unless the patterns are mirror-symmetric themselves, a class's code may not be another's mirror image
    either, as long as the codes leave room for that (a code and its mirror are one orbit; K orbits needed).
    Where even distinct codes are too few (2^free cells < K), the draw is kept as it is.
    """
    logits = logits.clone()
    k = logits.shape[0]
    if 2 ** _free_cells(logits.shape[1:], mirrored) < k:
        return logits
    avoid_mirrors = not mirrored and _orbits(logits.shape[1:]) >= k
    taken: set[bytes] = set()
    for c in range(k):
        for _ in range(MAX_REDRAWS):
            code = _code(logits[c], mirrored)
            mirror = _code(logits[c].flip(-1), mirrored)
            if code not in taken and not (avoid_mirrors and mirror in taken):
                break
            logits[c] = logits[c].abs().mul(torch.randint(0, 2, logits[c].shape, generator=gen) * 2 - 1)
        taken.add(code)
        if avoid_mirrors:
            taken.add(mirror)
    return logits


def _code(logits: torch.Tensor, mirrored: bool) -> bytes:
    """The signs protect writes (nets/generator.py, pattern_tiles: tanh, then the sign at full budget)."""
    if mirrored:
        logits = logits + logits.flip(-1)
    return (logits >= 0).to(torch.uint8).numpy().tobytes()


def _free_cells(shape: torch.Size, mirrored: bool) -> int:
    """Cells of a (C, h, w) pattern that choose its code: mirrored patterns average a cell with its mirror."""
    c, h, w = shape
    return c * h * (-(-w // 2) if mirrored else w)


def _orbits(shape: torch.Size) -> int:
    """How many sign codes of this shape there are, counting a code and its left-right mirror as one (Burnside)."""
    return (2 ** _free_cells(shape, False) + 2 ** _free_cells(shape, True)) // 2
