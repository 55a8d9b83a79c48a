"""Early stopping on a held-out slice: train until the validation score stops improving, keep the best weights.

An attacker trains as long as it helps them (issue 16: fresh attackers trained a fixed 5 epochs were weaker than
an independent one trained on more data), so the evaluation's attackers stop when their validation loss (or
accuracy) has not improved for `patience` epochs, within a cap on epochs, and end with the weights of their best
epoch. The curve they followed is kept (`history`), so a reader sees that it plateaued.
"""
from __future__ import annotations

import math

from torch import nn


class EarlyStopping:
    """`update(value, model)` after every epoch; True when training should stop. `restore(model)` at the end."""

    def __init__(self, patience: int, higher_is_better: bool = False, min_delta: float = 0.0):
        self.patience, self.higher_is_better, self.min_delta = int(patience), higher_is_better, float(min_delta)
        self.history: list[float] = []
        self.best = -math.inf if higher_is_better else math.inf
        self.best_epoch = 0                  # 1-based; 0 until the first update
        self._state: dict | None = None

    def _improves(self, value: float) -> bool:
        return value > self.best + self.min_delta if self.higher_is_better else value < self.best - self.min_delta

    def update(self, value: float, model: nn.Module) -> bool:
        self.history.append(float(value))
        if self._improves(value):
            self.best, self.best_epoch = float(value), len(self.history)
            self._state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return len(self.history) - self.best_epoch >= self.patience

    def restore(self, model: nn.Module) -> None:
        """Load the best epoch's weights (and BatchNorm statistics) back into `model`."""
        if self._state is not None:
            model.load_state_dict(self._state)

    def summary(self) -> dict:
        return {"best_epoch": self.best_epoch, "best": self.best if self.best_epoch else None,
                "epochs_run": len(self.history), "patience": self.patience,
                "stopped_early": len(self.history) - self.best_epoch >= self.patience}
