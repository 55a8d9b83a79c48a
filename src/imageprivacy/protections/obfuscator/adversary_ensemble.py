"""The simulated attackers of Algorithm 1 as an ensemble of K (AR, AC) pairs with staggered resets (issue 16).

Algorithm 1's one AR and one AC co-adapt with O: issue 16 measured them fooled (AC 56-60 %) while attackers
trained afresh on the frozen features read the private class at 72-78 %. O learns to beat *those* weights. So:
- member 0 is the DeepObfuscator's own `reconstructor` and `adversary` (pretrained, section 3.5); members
  1..K-1 start from a fresh initialisation, warmed up like a reset member (below), so the ensemble is diverse
  from the first epoch;
- with `reset_every` = R > 0, member k is re-initialised at the start of every epoch e >= 1 with
  (e + k * R // K) % R == 0: the resets are staggered, so most members are competent at any time;
- a re-initialised member first trains alone on the frozen O (`reset_warmup_steps` batches of defender images,
  Adam at `warmup_lr` for AR, the attackers' SGD recipe for AC) before it joins the game, so the defence
  steps are never judged by a random network; each member has its own optimisers, renewed at its reset.
The defence steps average their adversary terms over the members; the attack step updates every member.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from imageprivacy.attacks.obfuscator.attribute_inference import train_attribute_classifier
from imageprivacy.attacks.obfuscator.msssim_reconstruction import train_msssim_reconstructor
from imageprivacy.nets.obfuscator_nets import FeatureClassifier, MirrorReconstructor

if TYPE_CHECKING:
    from imageprivacy.protections.obfuscator.adversarial_training import AdversarialConfig
    from imageprivacy.protections.obfuscator.deep_obfuscator import DeepObfuscator


class AdversaryEnsemble:
    def __init__(self, net: DeepObfuscator, cfg: AdversarialConfig, params, images: torch.Tensor,
                 private: torch.Tensor, device, seed: int):
        self.net, self.cfg, self.params, self.device, self.seed = net, cfg, params, device, seed
        self.images, self.private = images, private
        self.reconstructors: list[nn.Module] = [net.reconstructor]
        self.adversaries: list[nn.Module] = [net.adversary]
        self.optimizers: list[tuple[torch.optim.Optimizer, torch.optim.Optimizer]] = [self._optimizers(0)]
        self.resets: list[list[int]] = []            # [epoch, member] of every reset
        for k in range(1, cfg.adversaries):
            torch.manual_seed(seed + 1000 * k)
            self.reconstructors.append(MirrorReconstructor(net.arch).to(device))
            self.adversaries.append(FeatureClassifier(net.arch, net.adversary.num_classes).to(device))
            self.optimizers.append(self._optimizers(k))
            self._warm_up(k, 0)

    def _optimizers(self, k: int):
        return (torch.optim.Adam(self.reconstructors[k].parameters(), lr=self.cfg.lr),
                torch.optim.Adam(self.adversaries[k].parameters(), lr=self.cfg.lr))

    def __len__(self) -> int:
        return len(self.reconstructors)

    def train(self, training: bool) -> None:
        for module in (*self.reconstructors, *self.adversaries):
            module.train(training)

    def due(self, epoch: int) -> list[int]:
        """Members reset at the start of `epoch` (0-based; never at 0, where they are fresh or pretrained)."""
        r, k = self.cfg.reset_every, len(self)
        if not r or epoch == 0:
            return []
        return [m for m in range(k) if (epoch + m * r // k) % r == 0]

    def reset(self, member: int, epoch: int) -> None:
        """Re-initialise member `member` in place (member 0 stays the net's own modules), then warm it up."""
        torch.manual_seed(self.seed + 1000 * member + epoch)
        fresh_ar, fresh_ac = MirrorReconstructor(self.net.arch), FeatureClassifier(
            self.net.arch, self.net.adversary.num_classes)
        self.reconstructors[member].load_state_dict(fresh_ar.state_dict())
        self.adversaries[member].load_state_dict(fresh_ac.state_dict())
        self.optimizers[member] = self._optimizers(member)
        self._warm_up(member, epoch)
        self.resets.append([epoch, member])

    def _warm_up(self, member: int, epoch: int) -> None:
        steps, batch = self.cfg.reset_warmup_steps, self.cfg.batch_size
        if not steps:
            return
        gen = torch.Generator().manual_seed(self.seed + 1000 * member + epoch)
        idx = torch.randperm(len(self.images), generator=gen)[:steps * batch]
        obfuscator = self.net.obfuscator.eval()
        seed = self.seed + 1000 * member + epoch
        train_msssim_reconstructor(self.reconstructors[member], obfuscator, self.images[idx], 1, batch,
                                   self.cfg.warmup_lr, self.params, self.device, seed)
        train_attribute_classifier(self.adversaries[member], obfuscator, self.images[idx], self.private[idx], 1,
                                   batch, self.device, seed + 1)
