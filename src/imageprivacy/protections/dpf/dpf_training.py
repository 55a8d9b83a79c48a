"""Training the DPF (paper eq. 7) with the featurizer, classifier and byproduct models frozen.

    loss = CE(phi2(P(phi1(x))), y) + lambda * mean over the byproduct models b of L_B(b, P(phi1(x)), x)

L_B is one of byproduct_losses.py ("decorrelation", "ssim", "random-labels"). The paper trains P against one
straw-man reconstructor psi; issue 16 measured that P then fools psi's family and not an independent decoder,
so P may be trained against several frozen reconstructors built differently (DPFConfig.decoders; the caller
builds and trains them) and, with `refresh_every` > 0, against new ones every that many epochs: the caller's
`refresh(epoch, P)` returns them (experiments/dpf/stages.py trains them afresh on public images, on clean or
on P's poisoned features as DPFConfig.refresh_on says). Random labels (section 4.4): the byproduct model is a
classifier of a private label; t is drawn once per image (seeded), uniformly among the other labels, so P is
pushed to a consistent wrong answer rather than to a target that changes every epoch.

The frozen models run in eval mode (their BN statistics do not move) and their parameters are set to not
require gradients for the duration, so gradients reach P through them but nothing else.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.errors import MissingLabelsError
from imageprivacy.protections.dpf.byproduct_losses import decorrelation_term, random_label_term, ssim_term

if TYPE_CHECKING:          # DeepPoisoningFunction.fit calls this loop
    from imageprivacy.protections.dpf.poisoning_function import DeepPoisoningFunction

Refresh = Callable[[int, nn.Module], Sequence[nn.Module]]


def _byproduct_loss(cfg, byproduct: nn.Module, poisoned: torch.Tensor, x: torch.Tensor,
                    random_draw: torch.Tensor | None, private: torch.Tensor | None) -> torch.Tensor:
    out = byproduct(poisoned)
    if cfg.objective == "ssim":
        return ssim_term(out, x)
    if cfg.objective == "decorrelation":
        return decorrelation_term(out, x, cfg.ssim_weight)
    return random_label_term(out, private, random_draw)


class _Frozen:
    """Models held frozen while P trains; `release` gives each its requires_grad flags back."""

    def __init__(self, device):
        self.device, self.saved = device, []

    def add(self, models: Sequence[nn.Module]) -> list[nn.Module]:
        for m in models:
            self.saved.append((m, [p.requires_grad for p in m.parameters()]))
            m.to(self.device).eval().requires_grad_(False)
        return list(models)

    def release(self) -> None:
        for m, flags in self.saved:
            for p, flag in zip(m.parameters(), flags):
                p.requires_grad_(flag)


def train_poisoning_function(poison: DeepPoisoningFunction, featurize: Callable[[torch.Tensor], torch.Tensor],
                             classifier: nn.Module, byproduct: nn.Module | Sequence[nn.Module], images: torch.Tensor,
                             labels: torch.Tensor, private_labels: torch.Tensor | None = None, device="cpu",
                             seed: int = 0, progress=None, refresh: Refresh | None = None) -> dict:
    """Train `poison` in place on uint8 images of the private set; returns per-epoch loss terms.

    `featurize` maps [0, 1] images to the features P poisons (phi1, or phi1 then a stationary function);
    `byproduct` is one frozen model or several; `private_labels` are the byproduct classifier's labels
    ("random-labels" only); `refresh` gives new byproduct models when DPFConfig.refresh_every asks.
    """
    cfg = poison.config
    if cfg.objective == "random-labels" and private_labels is None:
        raise MissingLabelsError("the random-labels DPF objective needs the private labels of its byproduct task")
    device = torch.device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    random_draw = torch.randint(0, 2 ** 30, (len(images),), generator=gen)
    poison.to(device)
    frozen = _Frozen(device)
    frozen.add([classifier])
    byproducts = frozen.add([byproduct] if isinstance(byproduct, nn.Module) else list(byproduct))
    opt = torch.optim.Adam(poison.parameters(), lr=cfg.lr)
    history = {"loss": [], "ce": [], "byproduct": [], "byproduct_each": [], "train_acc": [], "refreshed_at": []}
    try:
        for epoch in range(cfg.epochs):
            if refresh is not None and cfg.refresh_every and epoch and epoch % cfg.refresh_every == 0:
                poison.eval()
                byproducts = frozen.add(refresh(epoch, poison))
                history["refreshed_at"].append(epoch)
            poison.train()
            order = torch.randperm(len(images), generator=gen)
            sums = {"loss": 0.0, "ce": 0.0, "correct": 0, "each": [0.0] * len(byproducts)}
            for start in range(0, len(images), cfg.batch_size):
                idx = order[start:start + cfg.batch_size]
                x, y = images[idx].to(device).float() / 255.0, labels[idx].to(device)
                with torch.no_grad():
                    features = featurize(x)
                poisoned = poison(features)
                logits = classifier(poisoned)
                ce = F.cross_entropy(logits, y)
                private = None if private_labels is None else private_labels[idx].to(device)
                terms = [_byproduct_loss(cfg, b, poisoned, x, random_draw[idx].to(device), private) for b in byproducts]
                loss = ce + cfg.lam * torch.stack(terms).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sums["loss"] += loss.item() * len(idx)
                sums["ce"] += ce.item() * len(idx)
                sums["each"] = [s + t.item() * len(idx) for s, t in zip(sums["each"], terms)]
                sums["correct"] += (logits.argmax(1) == y).sum().item()
            n = max(1, len(images))
            history["loss"].append(sums["loss"] / n)
            history["ce"].append(sums["ce"] / n)
            history["byproduct_each"].append([s / n for s in sums["each"]])
            history["byproduct"].append(sum(history["byproduct_each"][-1]) / len(byproducts))
            history["train_acc"].append(sums["correct"] / n)
            if progress:
                progress("epoch", {"epoch": epoch + 1, "epochs": cfg.epochs, "ce": history["ce"][-1],
                                   cfg.objective: history["byproduct"][-1], "train_acc": history["train_acc"][-1]})
    finally:
        frozen.release()
    poison.eval()
    return history
