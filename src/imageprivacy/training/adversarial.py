"""PGD adversarial examples for adversarial training of a victim (Madry et al. 2018).

L-inf PGD with a uniform random start in the eps ball, `steps` signed-gradient *ascent* steps of
size `step_size` (default 2.5 eps / steps, Madry's rule of thumb), projection back to the ball and
to valid pixels [0, 1] after every step. Adversarial training replaces the batch by these examples.

It is a standard defence against unlearnable examples (it motivated robust unlearnable examples,
REM, Fu et al. 2022): noise bounded by eps is a weaker shortcut for a model trained to be robust
to perturbations of that size.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from imageprivacy.errors import ConfigurationError


def pgd_examples(model: nn.Module, images: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor],
                 epsilon: float, steps: int = 10, step_size: float | None = None) -> torch.Tensor:
    """Maximise loss_fn(model(x')) over x' in the L-inf eps ball around `images`, within [0, 1].

    The model is put in eval mode while crafting and restored afterwards: in train mode every PGD
    step would update BatchNorm's running statistics with half-crafted inputs (steps extra batches
    per training step) and normalise by the current batch's statistics, so the attack would target
    a different function from the one being trained. Dropout would likewise make the gradient noisy.
    Only the input's gradient is taken (autograd.grad), so parameter .grad stays untouched.
    """
    if not 0.0 < epsilon <= 1.0:
        raise ConfigurationError(f"PGD epsilon must be in (0, 1] (pixel scale), got {epsilon}")
    if steps < 1:
        raise ConfigurationError(f"PGD needs at least one step, got {steps}")
    step_size = 2.5 * epsilon / steps if step_size is None else step_size
    images = images.detach()
    was_training = model.training
    model.eval()
    try:
        delta = (torch.rand_like(images) * 2.0 - 1.0) * epsilon
        delta = (images + delta).clamp(0.0, 1.0) - images
        for _ in range(steps):
            delta.requires_grad_(True)
            (grad,) = torch.autograd.grad(loss_fn(model(images + delta)), delta)
            delta = (delta.detach() + step_size * grad.sign()).clamp(-epsilon, epsilon)
            delta = (images + delta).clamp(0.0, 1.0) - images
    finally:
        model.train(was_training)
    return (images + delta).detach()
