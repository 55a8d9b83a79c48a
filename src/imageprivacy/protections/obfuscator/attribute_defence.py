"""The AC defence term of Algorithm 1 (what O minimises against the adversary classifier), by name.

- "negative-ce": the paper's -L(AC). Unbounded: it rewards features on which AC is confidently *wrong*, a
  consistent relabelling that an attacker retrained from scratch learns straight back.
- "conditional-prior" (after the maximum-entropy defence of Roy & Boddeti, CVPR 2019): the cross-entropy
  between AC's output and p(private | task), the defender's empirical guessing distribution given the task
  label. It equals KL(prior || AC) plus the prior's entropy, so its minimum is reached exactly when AC can do no
  better than guessing from what the task already reveals, and it cannot run away.
- "guessing-hinge" (issue 16): the paper's term clipped at the guessing level, per image:
      relu(log p_AC(z | f) - log p(z | task))
  zero once AC gives the true private label no more probability than guessing would, so, unlike -L(AC), it
  never pushes toward confident wrong answers, and unlike "conditional-prior" it leaves AC's output alone
  wherever AC is already no better than guessing.
p(private | task) is counted once on the defender's labels, add-one smoothed.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

ATTRIBUTE_LOSSES = ("negative-ce", "conditional-prior", "guessing-hinge")


def conditional_prior(task: torch.Tensor, private: torch.Tensor, num_private: int) -> torch.Tensor:
    """(task values, num_private): row t is p(private | task = t) on these labels, add-one smoothed."""
    counts = torch.ones(int(task.max()) + 1, num_private)
    counts.index_put_((task.long().cpu(), private.long().cpu()), torch.ones(len(task)), accumulate=True)
    return counts / counts.sum(1, keepdim=True)


def attribute_defence(name: str, logits: torch.Tensor, task: torch.Tensor, private: torch.Tensor,
                      prior: torch.Tensor) -> torch.Tensor:
    """The defence term `name` for one adversary's `logits` on a batch (task and private labels of it)."""
    if name == "negative-ce":
        return -F.cross_entropy(logits, private)
    if name == "conditional-prior":
        return F.cross_entropy(logits, prior[task])
    true_log_p = F.log_softmax(logits, 1).gather(1, private[:, None])[:, 0]
    guess_log_p = prior[task, private].log()
    return F.relu(true_log_p - guess_log_p).mean()
