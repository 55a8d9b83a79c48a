"""Algorithm 1 of DeepObfuscator: four batches per iteration, each updating one side of the game.

    batch % 4 == 0  defend against AR:  L(C) + lambda2 (L(AR2) - L(AR1))  -> update O
    batch % 4 == 1  defend against AC:  L(C) - lambda1 L(AC)              -> update O
    batch % 4 == 2  attack:             L(AR1) -> update AR;  L(AC) -> update AC   (O fixed)
    batch % 4 == 3  recover C:          L(C)   -> update C                         (O fixed)

L(AR1) = 1 - MS-SSIM(image, AR(O(x))) and L(AR2) = 1 - MS-SSIM(noise, AR(O(x))), where the noise is
one fixed Gaussian image drawn once from `noise_seed` (mean 0.5, std 0.25, clipped to [0, 1]: our
choice; the paper says only "Gaussian noise image"). L(C), L(AC) are cross-entropies. Adam for all
four modules, one optimiser each (paper 4.1; lr 1e-4 as the authors' code). Setting lambda1 = 0 or
lambda2 = 0 gives the defend-only-one ablations of section 4.2 (the other step then keeps only L(C)).
Modules being updated run in train mode, the others in eval mode, so a defence step does not move
the running statistics of the adversaries it is judged by. Any non-finite loss stops training.

`attribute_loss` chooses the AC defence term. "negative-ce" is the paper's -L(AC): unbounded, it
rewards features on which AC is confidently *wrong*, a consistent relabelling that an attacker
retrained from scratch learns straight back. "conditional-prior" (our option, after the maximum-
entropy defence of Roy & Boddeti, CVPR 2019) instead minimises the cross-entropy between AC's output
and p(private | task), the defender's empirical guessing distribution given the task label: its
minimum is reached when AC can do no better than guessing from what the task already reveals, which
is the issue's target, and it is bounded below, so it cannot run away.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from imageprivacy.attacks.obfuscator.msssim_reconstruction import reconstruction_loss
from imageprivacy.errors import ConfigurationError
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams
from imageprivacy.training.finite_loss import require_finite

if TYPE_CHECKING:          # DeepObfuscator.fit calls this module's training
    from imageprivacy.protections.obfuscator.deep_obfuscator import DeepObfuscator

LOSSES = ("task", "reconstruction", "noise", "attribute")       # L(C), L(AR1), L(AR2), L(AC)
ATTRIBUTE_LOSSES = ("negative-ce", "conditional-prior")


@dataclass
class AdversarialConfig:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-4
    lambda_attribute: float = 1.0          # lambda1, weight of -L(AC)
    lambda_reconstruction: float = 1.0     # lambda2, weight of L(AR2) - L(AR1)
    noise_seed: int = 0
    attribute_loss: str = "negative-ce"    # the paper's; see the module docstring

    def __post_init__(self) -> None:
        if self.attribute_loss not in ATTRIBUTE_LOSSES:
            raise ConfigurationError(f"unknown attribute_loss {self.attribute_loss!r}; "
                                     f"known: {', '.join(ATTRIBUTE_LOSSES)}")

    def to_dict(self) -> dict:
        return asdict(self)


def noise_image(image_shape: tuple[int, int, int], seed: int) -> torch.Tensor:
    """The fixed target of L(AR2): (1, C, H, W), N(0.5, 0.25^2) clipped to [0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    return (0.5 + 0.25 * torch.randn((1, *image_shape), generator=gen)).clamp(0.0, 1.0)


def conditional_prior(task: torch.Tensor, private: torch.Tensor, num_private: int) -> torch.Tensor:
    """(task values, num_private): row t is p(private | task = t) on these labels, add-one smoothed."""
    counts = torch.ones(int(task.max()) + 1, num_private)
    counts.index_put_((task.long().cpu(), private.long().cpu()), torch.ones(len(task)), accumulate=True)
    return counts / counts.sum(1, keepdim=True)


def _modes(net: DeepObfuscator, training: set[str]) -> None:
    for name in ("obfuscator", "classifier", "reconstructor", "adversary"):
        getattr(net, name).train(name in training)


def train_adversarially(net: DeepObfuscator, images: torch.Tensor, task: torch.Tensor, private: torch.Tensor,
                        cfg: AdversarialConfig, params: MSSSIMParams, device="cpu", seed: int = 0,
                        progress=None) -> dict:
    """Run Algorithm 1 on `net` in place over uint8 `images`; per-epoch mean of each loss."""
    device = torch.device(device)
    net.to(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    target = noise_image(tuple(images.shape[1:]), cfg.noise_seed).to(device)
    opt = {name: torch.optim.Adam(getattr(net, name).parameters(), lr=cfg.lr)
           for name in ("obfuscator", "classifier", "reconstructor", "adversary")}
    history = {name: [] for name in LOSSES}
    prior = None          # p(private | task), built at the first AC defence step (it needs AC's output size)
    step = 0

    def update(name: str, loss: torch.Tensor, what: str) -> None:
        require_finite(loss, what, step)
        opt[name].zero_grad(set_to_none=True)
        loss.backward()
        opt[name].step()

    for epoch in range(cfg.epochs):
        sums, counts = dict.fromkeys(LOSSES, 0.0), dict.fromkeys(LOSSES, 0)
        order = torch.randperm(len(images), generator=gen)
        for batch, start in enumerate(range(0, len(images), cfg.batch_size)):
            idx = order[start:start + cfg.batch_size]
            x, y, z = images[idx].to(device).float() / 255.0, task[idx].to(device), private[idx].to(device)
            phase, seen = batch % 4, {}
            if phase in (0, 1):
                _modes(net, {"obfuscator"})
                features = net.obfuscator(x)
                seen["task"] = F.cross_entropy(net.classifier(features), y)
                if phase == 0:
                    recon = net.reconstructor(features)
                    seen["reconstruction"] = reconstruction_loss(recon, x, params)
                    seen["noise"] = reconstruction_loss(recon, target, params)
                    loss = seen["task"] + cfg.lambda_reconstruction * (seen["noise"] - seen["reconstruction"])
                else:
                    logits = net.adversary(features)
                    seen["attribute"] = F.cross_entropy(logits, z)     # logged as L(AC) either way
                    if cfg.attribute_loss == "negative-ce":
                        defence = -seen["attribute"]
                    else:
                        if prior is None:
                            prior = conditional_prior(task, private, logits.shape[1]).to(device)
                        defence = F.cross_entropy(logits, prior[y])
                    loss = seen["task"] + cfg.lambda_attribute * defence
                update("obfuscator", loss, f"defence loss (batch phase {phase})")
            else:
                _modes(net, {"reconstructor", "adversary"} if phase == 2 else {"classifier"})
                with torch.no_grad():
                    features = net.obfuscator(x)
                if phase == 2:
                    seen["reconstruction"] = reconstruction_loss(net.reconstructor(features), x, params)
                    update("reconstructor", seen["reconstruction"], "L(AR1)")
                    seen["attribute"] = F.cross_entropy(net.adversary(features), z)
                    update("adversary", seen["attribute"], "L(AC)")
                else:
                    seen["task"] = F.cross_entropy(net.classifier(features), y)
                    update("classifier", seen["task"], "L(C)")
            for name, value in seen.items():
                sums[name] += value.item() * len(idx)
                counts[name] += len(idx)
            step += 1
        for name in LOSSES:
            history[name].append(sums[name] / counts[name] if counts[name] else None)
        if progress:
            progress("epoch", {"epoch": epoch + 1, "epochs": cfg.epochs,
                               **{f"L_{n}": history[n][-1] for n in LOSSES}})
    net.eval()
    return history
