"""Error-minimizing noise (EMN, Huang et al. 2021, "Unlearnable Examples"): the min-min baseline.

Bi-level loop (official code HanxunH/Unlearnable-Examples, docs/background.md section 2): each round
trains a surrogate for `train_steps` SGD steps on x + delta, then updates delta over the whole
training set by signed-gradient *descent* on the surrogate's cross-entropy, until the surrogate's
train accuracy on x + delta reaches `stop_accuracy`. The noise makes the data too easy to learn.

Kept from the official code: zero start, warm start across rounds, step eps/10, 20 descent steps
and a 99 % stop (sample-wise), 1 step and a 90 % stop (class-wise, its README command), class noise
= mean of its samples' updated noise, SGD 0.1 / 0.9 / 5e-4 with grad-norm clip 5.
Left out (its bugs): x + delta outside [0, 1] during surrogate training (here always clamped);
augmentation on some paths only (here never while crafting: the noise must minimise the loss on
the exact pixels that get written, and victims augment after protection, classifier_training.py).
Differs: batch 128 for crafting (the official perturbation.py defaults to 512).

Under torchrun (training/distributed.py) the surrogate trains through DDP on each rank's part of every
batch; the noise update is shared out: each rank descends on its shard of the images, then sample-wise
noise is put together from the shards (exactly one process's result: the surrogate is in eval mode,
so each image's descent depends on that image alone) and class-wise noise is the ranks' mean, where one
process keeps the last batch's mean. The stop accuracy is summed over the ranks' shards, so all stop
in the same round. Where the loops autocast (a GPU, a CPU with bf16 units: training/accelerator.py) the
surrogate's passes run in bf16, those of the descent too (the demo's EMN fit 292 -> 155 s on the 2-core
CPU, not weaker on two seeds: docs/results/demo-lane-order/); the image, its gradient and the noise that
is written stay float32.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from imageprivacy.errors import ConfigurationError, InputShapeError, NotFittedError
from imageprivacy.nets import build_net
from imageprivacy.protections.base import Protection, register
from imageprivacy.protections.pixel_budget import apply_noise_uint8
from imageprivacy.training import distributed
from imageprivacy.training.accelerator import mixed_precision, to_device

MODES = ("samplewise", "classwise")


@register
class ErrorMinimizingNoise(Protection):
    """EMN, sample-wise (transductive: one noise per image) or class-wise (one noise per class)."""

    name = "emn"
    needs_labels_to_protect = True        # the descent minimises the loss of the true label

    def __init__(self, epsilon=8 / 255, mode: str = "samplewise", steps: int | None = None,
                 step_size: float | None = None, train_steps: int = 10, stop_accuracy: float | None = None,
                 max_rounds: int = 50, surrogate_arch: str = "resnet18", surrogate_width: int | None = 16,
                 lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 5e-4, grad_clip: float = 5.0,
                 fit_batch_size: int = 128, device="cpu", seed=0, batch_size=256):
        super().__init__(epsilon, device, seed, batch_size)
        if mode not in MODES:
            raise ConfigurationError(f"mode must be one of {MODES}, got {mode!r}")
        classwise = mode == "classwise"
        self.mode = mode
        self.steps = int(steps if steps is not None else (1 if classwise else 20))
        self.step_size = float(step_size if step_size is not None else self.epsilon / 10)
        self.stop_accuracy = float(stop_accuracy if stop_accuracy is not None else (0.9 if classwise else 0.99))
        self.train_steps, self.max_rounds = int(train_steps), int(max_rounds)
        self.surrogate_arch, self.surrogate_width = surrogate_arch, surrogate_width
        self.lr, self.momentum, self.weight_decay, self.grad_clip = lr, momentum, weight_decay, grad_clip
        self.fit_batch_size = int(fit_batch_size)
        # stop_accuracy above 1 is allowed on purpose: it runs all max_rounds (fixed-cost runs, tests).
        if (self.max_rounds < 1 or self.steps < 0 or self.train_steps < 0 or self.fit_batch_size < 1
                or self.stop_accuracy <= 0 or self.step_size <= 0):
            raise ConfigurationError("EMN needs max_rounds >= 1, steps >= 0, train_steps >= 0, fit_batch_size >= 1, "
                             "stop_accuracy > 0 and step_size > 0")
        self.surrogate: torch.nn.Module | None = None
        self.class_noise: torch.Tensor | None = None        # (K, C, H, W), class-wise only
        self.image_size: tuple[int, int] | None = None
        self._fitted_set = None

    # ---- the inner minimisation ------------------------------------------------------------
    def _descend(self, x: torch.Tensor, y: torch.Tensor, delta: torch.Tensor, steps: int) -> torch.Tensor:
        """`steps` signed-gradient descent steps on CE(surrogate(x + delta), y) from `delta`."""
        model, eps = self.surrogate, self.epsilon
        delta = ((x + delta).clamp(0, 1) - x).detach()
        for _ in range(steps):
            # The gradient is taken at the (clamped) image, as in the official code.
            image = (x + delta).requires_grad_(True)
            with mixed_precision(self.device):      # the surrogate's pass only: image, grad, delta stay float32
                logits = model(image)
            grad, = torch.autograd.grad(F.cross_entropy(logits.float(), y), image)
            delta = (image.detach() - self.step_size * grad.sign() - x).clamp(-eps, eps)
            delta = (x + delta).clamp(0, 1) - x
        return delta

    def _delta_for(self, delta: torch.Tensor, idx: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (delta[y.cpu()] if self.mode == "classwise" else delta[idx]).to(self.device)

    def _batch(self, data, idx):
        return to_device(data.images[idx], self.device).float() / 255.0, to_device(data.labels[idx], self.device)

    # ---- the bi-level (min-min) loop -------------------------------------------------------
    def _fit(self, data, progress) -> None:
        n, (c, h, w) = len(data), data.images.shape[1:]
        self.num_classes, self.image_size = data.num_classes, (h, w)
        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        self.surrogate = model = build_net(self.surrogate_arch, c, self.num_classes, width=self.surrogate_width,
                                           image_size=(h, w)).to(self.device)
        opt = torch.optim.SGD(model.parameters(), lr=self.lr, momentum=self.momentum,
                              weight_decay=self.weight_decay)
        # Kept on the CPU like the images: a full-set float noise is 4x the uint8 set.
        delta = torch.zeros((self.num_classes if self.mode == "classwise" else n, c, h, w))
        stream, acc, rounds = self._index_stream(n, gen), 0.0, 0
        net = distributed.wrap(model)
        for rounds in range(1, self.max_rounds + 1):
            model.train().requires_grad_(True)
            for _ in range(self.train_steps):
                idx = next(stream)
                x, y = self._batch(data, idx)
                with mixed_precision(self.device):
                    logits = net((x + self._delta_for(delta, idx, y)).clamp(0, 1))
                loss = F.cross_entropy(logits.float(), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                opt.step()
            distributed.share_rank0_buffers(model)     # every rank descends against the same surrogate
            model.eval().requires_grad_(False)
            mine = distributed.shard(torch.randperm(n, generator=gen), pad=False)
            for idx in mine.split(self.fit_batch_size):
                x, y = self._batch(data, idx)
                eta = self._descend(x, y, self._delta_for(delta, idx, y), self.steps).cpu()
                if self.mode == "samplewise":
                    delta[idx] = eta
                else:   # each class noise becomes the mean of its samples' updated noise
                    for k in y.unique().cpu():
                        delta[k] = eta[y.cpu() == k].mean(0).clamp(-self.epsilon, self.epsilon)
            delta = self._join_ranks(delta, mine)
            acc = self._accuracy(data, delta)
            progress("epoch", {"epoch": rounds, "epochs": self.max_rounds, "train_acc": acc})
            if acc >= self.stop_accuracy:
                break
        # rounds used, final train accuracy on x + delta: how converged the noise is
        self.fit_record = {"rounds": rounds, "train_acc": acc, "reached_stop": acc >= self.stop_accuracy}
        if self.mode == "classwise":
            self.class_noise = delta
        full = delta[data.labels] if self.mode == "classwise" else delta
        self._fitted_set = data.with_images(apply_noise_uint8(data.images, full, self.epsilon),
                                            name=f"{data.name}+{self.name}")

    def _index_stream(self, n: int, gen: torch.Generator):
        """Minibatches (this rank's part of each) of a reshuffled pass after pass: steps continue across rounds."""
        while True:
            yield from distributed.rank_batches(torch.randperm(n, generator=gen), self.fit_batch_size)

    def _join_ranks(self, delta: torch.Tensor, mine: torch.Tensor) -> torch.Tensor:
        """Every rank's noise update in one tensor, on every rank (the update itself in one process)."""
        if not distributed.world().distributed:
            return delta
        if self.mode == "classwise":
            return distributed.sum_over_ranks(delta) / distributed.world().size
        # The shards split the images: each rank gives its own images' noise and zeros elsewhere.
        own = torch.zeros_like(delta)
        own[mine] = delta[mine]
        return distributed.sum_over_ranks(own)

    @torch.no_grad()
    def _accuracy(self, data, delta: torch.Tensor) -> float:
        correct = 0
        for idx in distributed.shard(torch.arange(len(data)), pad=False).split(self.fit_batch_size):
            x, y = self._batch(data, idx)
            logits = self.surrogate((x + self._delta_for(delta, idx, y)).clamp(0, 1))
            correct += (logits.argmax(1) == y).sum().item()
        return distributed.all_sum([correct])[0] / max(1, len(data))

    def fitted_protection(self):
        """The training set protected with the noise crafted during fit (uint8 ImageSet)."""
        if self._fitted_set is None:
            raise NotFittedError("fitted_protection needs fit in this session: checkpoints keep the "
                                 "surrogate or class noise, not the per-image training noise")
        return self._fitted_set

    # ---- protection ------------------------------------------------------------------------
    def _noise(self, x, labels):
        if self.mode == "classwise":
            if x.shape[2:] != self.class_noise.shape[2:]:
                raise InputShapeError(f"class-wise EMN was fitted on {tuple(self.class_noise.shape[2:])} "
                                      f"images, got {tuple(x.shape[2:])}")
            return self.class_noise.to(x.device)[labels]
        # Sample-wise EMN is transductive: new images get the inner minimisation against the frozen
        # surrogate (protect runs under no_grad, the descent needs gradients).
        with torch.enable_grad():
            return self._descend(x, labels, torch.zeros_like(x), self.steps)

    def _modules(self):
        return [self.surrogate] if self.surrogate is not None else []

    def _repr_fields(self):
        return {**super()._repr_fields(), "mode": self.mode, "steps": self.steps,
                "surrogate": f"{self.surrogate_arch}/{self.surrogate_width}"}

    # ---- checkpoints -----------------------------------------------------------------------
    def _config(self) -> dict:
        keys = ("epsilon", "mode", "steps", "step_size", "train_steps", "stop_accuracy", "max_rounds",
                "surrogate_arch", "surrogate_width", "lr", "momentum", "weight_decay", "grad_clip",
                "fit_batch_size", "seed", "batch_size")
        return {k: getattr(self, k) for k in keys}

    def checkpoint_state(self) -> tuple[dict, dict]:
        meta = self._checkpoint_meta(self._config(), image_size=self.image_size)
        if self.mode == "classwise":
            return {"class_noise": self.class_noise.detach().cpu().contiguous()}, meta
        return {k: v.detach().cpu().contiguous() for k, v in self.surrogate.state_dict().items()}, meta

    @classmethod
    def from_checkpoint(cls, tensors: dict, meta: dict, device="cpu") -> "ErrorMinimizingNoise":
        self, state = cls._from_meta(meta, device)
        self.image_size = tuple(state["image_size"])
        if self.mode == "classwise":
            self.class_noise = self._class_tensor(tensors, "class_noise")
            return self
        self.surrogate = build_net(self.surrogate_arch, self.channels, self.num_classes, width=self.surrogate_width,
                                   image_size=tuple(state["image_size"]))
        self.surrogate.load_state_dict(tensors)
        self.surrogate.to(self.device).eval().requires_grad_(False)
        return self
