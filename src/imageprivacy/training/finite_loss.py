"""A loss that is NaN or infinite stops training with a typed error instead of being replaced.

The DeepObfuscator authors' code fell back to MSE whenever MS-SSIM came out NaN (docs/background.md,
section 2), so the loss it reported was not the loss it optimised. Here a non-finite loss stops
the stage and says which loss, at which step, so the cause (a contrast term, a learning rate)
can be fixed; nothing is stepped with a NaN gradient.
"""
from __future__ import annotations

import torch

from imageprivacy.errors import NonFiniteLossError


def require_finite(loss: torch.Tensor, what: str, step: int | None = None) -> torch.Tensor:
    """`loss` unchanged when finite; NonFiniteLossError naming `what` (and the step) otherwise."""
    if not torch.isfinite(loss).all():
        where = f" at step {step}" if step is not None else ""
        raise NonFiniteLossError(f"{what} is {loss.detach().flatten()[:4].tolist()}{where}; training stopped "
                                 f"rather than falling back to another loss")
    return loss
