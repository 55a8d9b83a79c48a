"""Algorithm 1 of DeepObfuscator: four batches per iteration, each updating one side of the game.

    batch % 4 == 0  defend against AR:  L(C) + lambda2 (L(AR2) - L(AR1))  -> update O
    batch % 4 == 1  defend against AC:  L(C) + lambda1 D(AC)              -> update O
    batch % 4 == 2  attack:             L(AR1) -> update AR;  L(AC) -> update AC   (O fixed)
    batch % 4 == 3  recover C:          L(C)   -> update C                         (O fixed)

L(AR1) = 1 - MS-SSIM(image, AR(O(x))) and L(AR2) = 1 - MS-SSIM(noise, AR(O(x))), where the noise is
one fixed Gaussian image drawn once from `noise_seed` (mean 0.5, std 0.25, clipped to [0, 1]: our
choice; the paper says only "Gaussian noise image"). L(C), L(AC) are cross-entropies; D(AC) is the AC
defence term `attribute_loss` (attribute_defence.py; the paper's is -L(AC)). Adam for all four modules,
one optimiser each (paper 4.1; lr 1e-4 as the authors' code). Setting lambda1 = 0 or lambda2 = 0 gives
the defend-only-one ablations of section 4.2 (the other step then keeps only L(C)). Modules being updated
run in train mode, the others in eval mode, so a defence step does not move the running statistics of the
adversaries it is judged by. Any non-finite loss stops training.

Levers against attackers trained afresh (issue 16), each off by default (the paper's game):
- `adversaries` K > 1 and `reset_every`: an ensemble of K (AR, AC) pairs with staggered re-initialisations
  (adversary_ensemble.py); the defence terms are averaged over the members, the attack step trains all;
- `feature_noise`: Gaussian noise at O's output (feature_noise.py). Algorithm 1 sets O's noise to this std,
  trains with it, and leaves it on: the released obfuscator adds it too.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from imageprivacy.attacks.obfuscator.msssim_reconstruction import reconstruction_loss
from imageprivacy.errors import ConfigurationError
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams
from imageprivacy.protections.obfuscator.adversary_ensemble import AdversaryEnsemble
from imageprivacy.protections.obfuscator.attribute_defence import (ATTRIBUTE_LOSSES, attribute_defence,
                                                                   conditional_prior)
from imageprivacy.training.finite_loss import require_finite

if TYPE_CHECKING:          # DeepObfuscator.fit calls this module's training
    from imageprivacy.protections.obfuscator.deep_obfuscator import DeepObfuscator

LOSSES = ("task", "reconstruction", "noise", "attribute")       # L(C), L(AR1), L(AR2), L(AC)
__all__ = ["ATTRIBUTE_LOSSES", "AdversarialConfig", "conditional_prior", "noise_image", "train_adversarially"]


@dataclass
class AdversarialConfig:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-4
    lambda_attribute: float = 1.0          # lambda1, weight of the AC defence term
    lambda_reconstruction: float = 1.0     # lambda2, weight of L(AR2) - L(AR1)
    noise_seed: int = 0
    attribute_loss: str = "negative-ce"    # the paper's; see attribute_defence.py
    adversaries: int = 1                   # K (AR, AC) pairs (adversary_ensemble.py)
    reset_every: int = 0                   # epochs between two resets of one member; 0: never
    reset_warmup_steps: int = 100          # batches a re-initialised member trains alone on the frozen O
    warmup_lr: float = 1e-3                # Adam of AR during that warm-up (AC: the attackers' SGD recipe)
    feature_noise: float = 0.0             # std of the noise at O's output (feature_noise.py)

    def __post_init__(self) -> None:
        if self.attribute_loss not in ATTRIBUTE_LOSSES:
            raise ConfigurationError(f"unknown attribute_loss {self.attribute_loss!r}; "
                                     f"known: {', '.join(ATTRIBUTE_LOSSES)}")
        if self.adversaries < 1 or self.reset_every < 0 or self.reset_warmup_steps < 0 or self.feature_noise < 0:
            raise ConfigurationError(f"adversaries must be >= 1 and reset_every, reset_warmup_steps, feature_noise "
                                     f">= 0: {self}")

    def to_dict(self) -> dict:
        return asdict(self)


def noise_image(image_shape: tuple[int, int, int], seed: int) -> torch.Tensor:
    """The fixed target of L(AR2): (1, C, H, W), N(0.5, 0.25^2) clipped to [0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    return (0.5 + 0.25 * torch.randn((1, *image_shape), generator=gen)).clamp(0.0, 1.0)


def _modes(net: DeepObfuscator, ensemble: AdversaryEnsemble, training: set[str]) -> None:
    net.obfuscator.train("obfuscator" in training)
    net.classifier.train("classifier" in training)
    ensemble.train("adversaries" in training)


def _mean(values: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(values).mean()


def train_adversarially(net: DeepObfuscator, images: torch.Tensor, task: torch.Tensor, private: torch.Tensor,
                        cfg: AdversarialConfig, params: MSSSIMParams, device="cpu", seed: int = 0,
                        progress=None) -> dict:
    """Run Algorithm 1 on `net` in place over uint8 `images`; per-epoch mean of each loss (over the members)."""
    device = torch.device(device)
    net.to(device)
    net.obfuscator.noise.std = float(cfg.feature_noise)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    target = noise_image(tuple(images.shape[1:]), cfg.noise_seed).to(device)
    ensemble = AdversaryEnsemble(net, cfg, params, images, private, device, seed + 7)
    opt = {name: torch.optim.Adam(getattr(net, name).parameters(), lr=cfg.lr) for name in ("obfuscator", "classifier")}
    history = {name: [] for name in LOSSES}
    prior = conditional_prior(task, private, net.adversary.num_classes).to(device)
    step = 0

    def update(optimizer, loss: torch.Tensor, what: str) -> None:
        require_finite(loss, what, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for epoch in range(cfg.epochs):
        for member in ensemble.due(epoch):
            ensemble.reset(member, epoch)
        sums, counts = dict.fromkeys(LOSSES, 0.0), dict.fromkeys(LOSSES, 0)
        order = torch.randperm(len(images), generator=gen)
        for batch, start in enumerate(range(0, len(images), cfg.batch_size)):
            idx = order[start:start + cfg.batch_size]
            x, y, z = images[idx].to(device).float() / 255.0, task[idx].to(device), private[idx].to(device)
            phase, seen = batch % 4, {}
            if phase in (0, 1):
                _modes(net, ensemble, {"obfuscator"})
                features = net.obfuscator(x)
                seen["task"] = F.cross_entropy(net.classifier(features), y)
                if phase == 0:
                    recons = [ar(features) for ar in ensemble.reconstructors]
                    seen["reconstruction"] = _mean([reconstruction_loss(r, x, params) for r in recons])
                    seen["noise"] = _mean([reconstruction_loss(r, target, params) for r in recons])
                    loss = seen["task"] + cfg.lambda_reconstruction * (seen["noise"] - seen["reconstruction"])
                else:
                    logits = [ac(features) for ac in ensemble.adversaries]
                    seen["attribute"] = _mean([F.cross_entropy(lg, z) for lg in logits])     # L(AC), logged
                    defence = _mean([attribute_defence(cfg.attribute_loss, lg, y, z, prior) for lg in logits])
                    loss = seen["task"] + cfg.lambda_attribute * defence
                update(opt["obfuscator"], loss, f"defence loss (batch phase {phase})")
            else:
                _modes(net, ensemble, {"adversaries"} if phase == 2 else {"classifier"})
                with torch.no_grad():
                    features = net.obfuscator(x)
                if phase == 2:
                    rec, att = [], []
                    for ar, ac, (opt_ar, opt_ac) in zip(ensemble.reconstructors, ensemble.adversaries,
                                                        ensemble.optimizers):
                        rec.append(reconstruction_loss(ar(features), x, params))
                        update(opt_ar, rec[-1], "L(AR1)")
                        att.append(F.cross_entropy(ac(features), z))
                        update(opt_ac, att[-1], "L(AC)")
                    seen["reconstruction"], seen["attribute"] = _mean(rec).detach(), _mean(att).detach()
                else:
                    seen["task"] = F.cross_entropy(net.classifier(features), y)
                    update(opt["classifier"], seen["task"], "L(C)")
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
    history["resets"] = ensemble.resets
    return history
