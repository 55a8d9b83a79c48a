"""ConfounderGAN (paper Eq. 2-5, Algorithm 1): a generator of image-dependent confounder noise.

Per minibatch: (1) the discriminator D learns to tell x from x + G(x) (Eq. 2); (2) the generator
G minimises CE(f(G(x)), t) (Eq. 3: the noise *alone* must look like the label t to the frozen,
pretrained classifier f) + alpha * max(0, ||G(x)||_2 - c) (Eq. 4) + the generator's side of the
GAN game, log(1 - D(x + G(x))) in its non-saturating form (the max-min of Eq. 5).

Then (mixture generator) the selector alone is fitted to the labels of the very images it will
protect, until it picks the label's pattern for `selector_target` of them (selector_fit.py): the
images whose noise names another class are where a victim learns the real task.

Choices the paper leaves open (docs/confoundergan.md says why):
- f is pretrained on the clean training set and frozen in eval mode; it has BatchNorm, without
  which f(noise) gives the generator no usable gradient (docs/background.md section 1).
- epsilon is enforced twice: G ends in epsilon * tanh (or a convex mix of tanh patterns), and
  `protect` clips the written 8-bit pixels to the floor of epsilon * 255 levels.
- c = c_ratio * epsilon * sqrt(C * H * W): c_ratio 0.8 caps the noise RMS at 0.8 epsilon, which
  keeps the PSNR of 16/255 noise at or above 26 dB.

Under torchrun G and D train through DDP, each rank on its part of every batch (training/distributed.py);
f is frozen, so every rank just runs its own copy. On a GPU f and D run under bf16 autocast; G, whose
output is the noise, stays float32 (training/accelerator.py).
"""
from __future__ import annotations

import math
from dataclasses import replace
from functools import partial

import torch
import torch.nn.functional as F

from imageprivacy.errors import CheckpointError
from imageprivacy.nets import build_net
from imageprivacy.nets.discriminator import Discriminator
from imageprivacy.nets.generator import build_generator
from imageprivacy.protections.base import Protection, register
from imageprivacy.protections.unlearnable.confoundergan_config import ConfounderGANConfig, augment_names
from imageprivacy.protections.unlearnable.pattern_draw import (SAMPLE, draw_least_aligned_patterns,
                                                                set_anti_template_patterns, template_match)
from imageprivacy.protections.unlearnable.scratch_surrogate import ScratchSurrogate
from imageprivacy.protections.unlearnable.selector_fit import fit_selector
from imageprivacy.training import TrainRecipe, distributed, train_classifier
from imageprivacy.training.accelerator import mixed_precision, to_device
from imageprivacy.training.augment import build_augmentation


def paper_default_epsilon(channels: int, height: int) -> float:
    """8/255 for natural RGB images (CIFAR-10, SVHN), 16/255 for 28x28 and medical data (paper 5.1)."""
    return 16 / 255 if channels == 1 or height <= 28 else 8 / 255


@register
class ConfounderGAN(Protection):
    """`ConfounderGAN(epsilon, config)`; keywords named like a config field (epochs, kind, ...) override it."""

    name = "confoundergan"
    needs_labels_to_fit = True

    def __init__(self, epsilon: float | None = None, config: ConfounderGANConfig | dict | None = None,
                 device="cpu", seed: int = 0, batch_size: int = 256, **options):
        super().__init__(epsilon if epsilon is not None else 8 / 255, device, seed, batch_size)
        self.auto_epsilon = epsilon is None
        config = ConfounderGANConfig(**config) if isinstance(config, dict) else (config or ConfounderGANConfig())
        self.config = config.with_options(**options).validate()
        self.generator = None

    @property
    def kind(self) -> str:
        return self.config.generator.kind

    # ---- training ------------------------------------------------------------------------
    def _fit(self, data, progress) -> None:
        c, h, w = data.images.shape[1:]
        if self.auto_epsilon:
            self.epsilon = paper_default_epsilon(c, h)
        torch.manual_seed(self.seed)
        self.num_classes = data.num_classes
        # The generator's data fields follow the data and the budget; the checkpoint keeps them.
        shape = replace(self.config.generator, channels=c, num_classes=data.num_classes, epsilon=self.epsilon)
        anti = self.config.patterns == "anti-template" and self.kind == "mixture"
        if anti and h != w:
            # The tile is square: non-square images get the drawn codes, and fit_record says so.
            progress("stage", {"stage": f"{h}x{w} images are not square: drawn patterns, not anti-template"})
            anti = False
        if anti:
            shape = replace(shape, cell_size=1, pattern_cells=h, mirror_patterns=False)   # one tile = the image
        self.config = tr = replace(self.config, generator=shape)
        f, f_hist = self._pretrained_f(data, progress) if tr.f_weight else (None, None)
        surrogate = ScratchSurrogate(tr.surrogate_arch, tr.surrogate_width, c, data.num_classes, (h, w),
                                     tr.surrogate_lr, augment_names(tr.surrogate_augment),
                                     self.device) if tr.surrogate_weight else None
        self.generator = build_generator(shape).to(self.device)
        drawn = None
        if self.kind == "mixture":
            drawn = (set_anti_template_patterns(self.generator, data.images, data.labels, tr.template_threshold)
                     if anti else
                     draw_least_aligned_patterns(self.generator, data.images, data.labels, tr.pattern_draws, self.seed))
        disc = Discriminator(c).to(self.device)
        opt_g = torch.optim.Adam(self._generator_groups(tr.pattern_lr), lr=tr.lr_g, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(disc.parameters(), lr=tr.lr_d, betas=(0.5, 0.999))
        bound = tr.c_ratio * self.epsilon * math.sqrt(c * h * w)
        gen = torch.Generator().manual_seed(self.seed)
        epochs = []
        label_weight = tr.label_weight if self.kind == "mixture" else 0.0
        # The mixture's forward is noise_and_logits(x)[0]: one pass of the selector serves both losses.
        game_g = distributed.wrap(self.generator, "noise_and_logits" if self.kind == "mixture" else "forward")
        game_d = distributed.wrap(disc)
        amp = partial(mixed_precision, self.device)      # a fresh context each time it is entered
        progress("stage", {"stage": "training generator", "epochs": tr.epochs})
        for epoch in range(tr.epochs):
            self.generator.train()
            sums = dict.fromkeys(["loss_d", "confounder", "hinge", "adv", "f_agrees", "surrogate_acc", "l2_ratio"],
                                 0.0)
            seen = 0
            for idx in distributed.rank_batches(torch.randperm(len(data), generator=gen), tr.fit_batch_size):
                x = to_device(data.images[idx], self.device).float() / 255.0
                t = to_device(data.labels[idx], self.device)
                noise, choice = game_g(x) if self.kind == "mixture" else (game_g(x), None)
                protected = (x + noise).clamp(0, 1)
                with amp():
                    real, fake = game_d(x), game_d(protected.detach())
                    loss_d = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                              + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                # Eq. 3 on the label's own pattern as well (mixture): it ties pattern k to class k, so the
                # mixture's choice of pattern gets a gradient that means "which class is this". (The bare
                # generator: under DDP the patterns' gradient of this term joins the one from game_g's
                # forward before it is averaged, as one backward sums both.)
                own = self.generator.pattern_noise(t, h, w) if self.kind == "mixture" else None
                confounder = torch.zeros((), device=x.device)
                if f is not None:
                    with amp():
                        logits = f(noise)
                    confounder = tr.f_weight * F.cross_entropy(logits.float(), t)
                    sums["f_agrees"] += (logits.argmax(1) == t).sum().item()
                    if own is not None:
                        with amp():
                            confounder = confounder + tr.f_weight * F.cross_entropy(f(own).float(), t)
                if surrogate is not None:
                    sums["surrogate_acc"] += surrogate.step(protected, t) * len(idx)
                    error = surrogate.error(protected, t)
                    if own is not None:
                        error = error + surrogate.error((x + own).clamp(0, 1), t)
                    confounder = confounder + tr.surrogate_weight * error
                if label_weight:
                    # Through f alone the selector fitted only 0.87 of its own 10k training images
                    # (docs/results.md): the images whose noise names another class are the ones a
                    # victim learns the real task from. This term teaches the selector the label.
                    confounder = confounder + label_weight * F.cross_entropy(choice, t)
                l2 = noise.flatten(1).norm(dim=1)
                hinge = F.relu(l2 - bound).mean()
                with amp():
                    # The bare discriminator: the gradient G needs flows through it either way, and D's own
                    # gradient from this loss is thrown away (opt_d zeroes it), so DDP has nothing to average.
                    judged = disc(protected)
                adv = F.binary_cross_entropy_with_logits(judged.float(), torch.ones_like(judged, dtype=torch.float))
                loss_g = confounder + tr.alpha * hinge + tr.adv_weight * adv
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                n = len(idx)
                seen += n
                for key, value in (("loss_d", loss_d), ("confounder", confounder), ("hinge", hinge), ("adv", adv)):
                    sums[key] += value.item() * n
                sums["l2_ratio"] += (l2 / (self.epsilon * math.sqrt(c * h * w))).sum().item()
            *totals, seen = distributed.all_sum([*sums.values(), seen])
            epochs.append({k: v / seen for k, v in zip(sums, totals)})
            progress("epoch", {"epoch": epoch + 1, "epochs": tr.epochs, **epochs[-1]})
        distributed.share_rank0_buffers(self.generator)
        self.generator.eval()
        self.fit_record = {"f": f_hist.to_dict() if f_hist else None, "generator": epochs, "c": bound}
        if self.kind == "mixture":
            self.fit_record["patterns"] = {**drawn, "template_match_after_game": template_match(
                self.generator, data.images[:SAMPLE], data.labels[:SAMPLE])}
            progress("stage", {"stage": "fitting the selector to the labels", "epochs": tr.selector_epochs})
            names = augment_names(tr.selector_augment)
            augment = build_augmentation(names, (h, w)).to(self.device) if names else None
            self.fit_record["selector"] = fit_selector(
                self.generator, data.images, data.labels, tr.selector_epochs, tr.selector_lr, tr.selector_target,
                tr.fit_batch_size, self.device, self.seed, progress, augment=augment)

    def _generator_groups(self, pattern_lr: float) -> list[dict]:
        """G's parameter groups: the patterns at their own rate; pattern_lr 0 keeps them as drawn (not even a
        gradient is computed), the selector alone then learns."""
        patterns = [p for n, p in self.generator.named_parameters() if n == "patterns"]
        others = [p for n, p in self.generator.named_parameters() if n != "patterns"]
        if pattern_lr == 0:
            for p in patterns:
                p.requires_grad_(False)
            return [{"params": others}]
        return [{"params": others}, {"params": patterns, "lr": pattern_lr}]

    def _pretrained_f(self, data, progress):
        """The paper's f: trained on the clean images for f_epochs, then frozen in eval mode."""
        tr, (c, h, w) = self.config, data.images.shape[1:]
        f = build_net(tr.f_arch, c, data.num_classes, width=tr.f_width, image_size=(h, w))
        progress("stage", {"stage": "pretraining f", "arch": tr.f_arch, "epochs": tr.f_epochs})
        f_hist = train_classifier(f, data.images, data.labels, TrainRecipe(epochs=tr.f_epochs, lr=tr.f_lr),
                                  device=self.device, seed=self.seed, progress=progress)
        return f.eval().requires_grad_(False), f_hist

    @torch.no_grad()
    def label_consistency(self, data) -> float | None:
        """Share of images whose dominant pattern is the one most images of their class get.

        The "N -> Y" edge of the confounder made measurable: class-wise noise scores 1.0. Pattern k
        need not stand for class k (only f's verdict on the mix is trained), hence the per-class
        majority. Only the mixture generator picks patterns explicitly; the direct one gives None.
        """
        if self.kind != "mixture":
            return None
        labels = data.require_labels("label_consistency")
        picks = torch.cat([self.generator.mixing_logits(data.images[idx].to(self.device).float() / 255.0)
                           .argmax(1).cpu() for idx in torch.arange(len(data)).split(self.batch_size)])
        hits = sum(int((picks[labels == k] == picks[labels == k].mode().values).sum())
                   for k in labels.unique())
        return hits / max(1, len(data))

    # ---- protection ----------------------------------------------------------------------
    def _noise(self, x, labels):
        # The label-aware path: an owner who knows the labels gets each label's own pattern, i.e.
        # 100 % label consistency; without labels the selector chooses (the paper's label-free path).
        if labels is not None and self.kind == "mixture":
            return self.generator.pattern_noise(labels, x.shape[2], x.shape[3])
        return self.generator(x)

    def _row_noise(self, images, labels):
        """The mixture's noise is a tiled pattern chosen from a small view: computable a stripe of rows at a time
        (the view is taken one channel at a time). The direct generator needs the whole image: None."""
        if self.kind != "mixture":
            return None
        gen = self.generator
        if labels is not None:
            tiles = gen.pattern_tiles()[labels]
        else:
            tiles = gen.mixed_tiles(gen.logits_of_view(gen.view_of_uint8(images, self.device)))
        return lambda r0, r1: gen.noise_rows(tiles, r0, r1, images.shape[3])

    def _modules(self):
        return [self.generator] if self.generator is not None else []

    def _repr_fields(self) -> dict:
        t = self.config
        return {**super()._repr_fields(), "kind": self.kind, "width": t.generator.width, "epochs": t.epochs,
                "alpha": t.alpha, "c_ratio": t.c_ratio, "f_arch": t.f_arch}

    # ---- checkpoints: the config (its generator as fitted) in the metadata, G's weights as tensors ----
    def checkpoint_state(self) -> tuple[dict, dict]:
        options = {"epsilon": self.epsilon, "config": self.config.to_dict(), "seed": self.seed,
                   "batch_size": self.batch_size}
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.generator.state_dict().items()}
        return tensors, self._checkpoint_meta(options)

    @classmethod
    def from_checkpoint(cls, tensors: dict, meta: dict, device="cpu") -> "ConfounderGAN":
        """The fitted method; CheckpointError when the generator's epsilon is not the one the method clips to
        (an edited file: the noise and the budget it is reported under would disagree)."""
        config = meta.get("options", {}).get("config")
        if isinstance(config, dict):
            config.setdefault("patterns", "drawn")       # written before anti-template became the default
            generator = config.get("generator")
            if isinstance(generator, dict):
                # Written before full_budget (mirror_patterns) existed: such a generator protected with its tanh
                # (unmirrored) patterns.
                generator.setdefault("full_budget", False)
                generator.setdefault("mirror_patterns", False)
                generator.setdefault("amplitude", 1.0)      # written before amplitude: the whole budget
        self, _ = cls._from_meta(meta, device)
        if abs(self.config.generator.epsilon - self.epsilon) > 1e-9:
            raise CheckpointError(f"the generator's epsilon {self.config.generator.epsilon:g} is not the protection's "
                                  f"recorded epsilon {self.epsilon:g} ({self.epsilon * 255:g}/255): the checkpoint was "
                                  "edited or damaged; refusing it")
        self.generator = build_generator(self.config.generator)
        self.generator.load_state_dict(tensors)
        self.generator.to(self.device).eval()
        return self
