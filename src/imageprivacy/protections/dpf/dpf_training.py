"""Training the DPF (paper eq. 7) with the featurizer, classifier and byproduct model frozen.

    loss = CE(phi2(P(phi1(x))), y) + lambda * L_B

- objective "ssim" (section 3.2.2): L_B = SSIM(psi(P(phi1(x))), x), minimised, psi the straw-man
  reconstructor. It is the plain SSIM as eq. 6 writes it, so it may go below zero;
  `reconstruction_scores` reports the SSIM to the negative image to show whether that happened.
- objective "random-labels" (section 4.4): the byproduct model is a classifier of a private label
  (identity, fine class); L_B = CE(byproduct(P(phi1(x))), t) with t a random label. Our choice:
  t is drawn once per image (seeded), uniformly among the labels other than the true one, so P is
  pushed to a consistent wrong answer rather than to a target that changes every epoch.

The frozen models run in eval mode (their BN statistics do not move) and their parameters are set
to not require gradients for the duration, so gradients reach P through them but nothing else.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.errors import MissingLabelsError
from imageprivacy.metrics.reconstruction import per_image_ssim

if TYPE_CHECKING:          # DeepPoisoningFunction.fit calls this loop
    from imageprivacy.protections.dpf.poisoning_function import DeepPoisoningFunction


def _byproduct_loss(objective: str, byproduct: nn.Module, poisoned: torch.Tensor, x: torch.Tensor,
                    random_draw: torch.Tensor | None, private: torch.Tensor | None) -> torch.Tensor:
    if objective == "ssim":
        return per_image_ssim(byproduct(poisoned), x).mean()
    logits = byproduct(poisoned)
    k = logits.shape[1]
    target = (private + 1 + random_draw % max(1, k - 1)) % k      # uniform over the other k - 1 labels
    return F.cross_entropy(logits, target)


def train_poisoning_function(poison: DeepPoisoningFunction, featurize: Callable[[torch.Tensor], torch.Tensor],
                             classifier: nn.Module, byproduct: nn.Module, images: torch.Tensor,
                             labels: torch.Tensor, private_labels: torch.Tensor | None = None, device="cpu",
                             seed: int = 0, progress=None) -> dict:
    """Train `poison` in place on uint8 images of the private set; returns per-epoch loss terms.

    `featurize` maps [0, 1] images to the features P poisons (phi1, or phi1 then a stationary
    function); `private_labels` are the byproduct classifier's labels ("random-labels" only).
    """
    cfg = poison.config
    if cfg.objective == "random-labels" and private_labels is None:
        raise MissingLabelsError("the random-labels DPF objective needs the private labels of its byproduct task")
    device = torch.device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    random_draw = torch.randint(0, 2 ** 30, (len(images),), generator=gen)
    poison.to(device)
    frozen = [m.to(device).eval() for m in (classifier, byproduct)]
    flags = [[p.requires_grad for p in m.parameters()] for m in frozen]
    for m in frozen:
        m.requires_grad_(False)
    opt = torch.optim.Adam(poison.parameters(), lr=cfg.lr)
    history = {"loss": [], "ce": [], "byproduct": [], "train_acc": []}
    try:
        for epoch in range(cfg.epochs):
            poison.train()
            order = torch.randperm(len(images), generator=gen)
            sums = {"loss": 0.0, "ce": 0.0, "byproduct": 0.0, "correct": 0}
            for start in range(0, len(images), cfg.batch_size):
                idx = order[start:start + cfg.batch_size]
                x, y = images[idx].to(device).float() / 255.0, labels[idx].to(device)
                with torch.no_grad():
                    features = featurize(x)
                poisoned = poison(features)
                logits = classifier(poisoned)
                ce = F.cross_entropy(logits, y)
                private = None if private_labels is None else private_labels[idx].to(device)
                by = _byproduct_loss(cfg.objective, byproduct, poisoned, x, random_draw[idx].to(device), private)
                loss = ce + cfg.lam * by
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                for key, value in (("loss", loss), ("ce", ce), ("byproduct", by)):
                    sums[key] += value.item() * len(idx)
                sums["correct"] += (logits.argmax(1) == y).sum().item()
            n = max(1, len(images))
            for key in ("loss", "ce", "byproduct"):
                history[key].append(sums[key] / n)
            history["train_acc"].append(sums["correct"] / n)
            if progress:
                progress("epoch", {"epoch": epoch + 1, "epochs": cfg.epochs, "ce": history["ce"][-1],
                                   cfg.objective: history["byproduct"][-1], "train_acc": history["train_acc"][-1]})
    finally:
        for m, saved in zip(frozen, flags):
            for p, flag in zip(m.parameters(), saved):
                p.requires_grad_(flag)
    poison.eval()
    return history
