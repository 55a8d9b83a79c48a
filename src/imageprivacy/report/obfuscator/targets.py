"""Issue 5's targets for a DeepObfuscator run, checked from its results.json (thresholds are the issue's).

1. MS-SSIM of every retrained reconstruction attacker <= 0.30 with DeepObfuscator;
2. ... and >= 0.90 without adversarial training (so the attackers are strong enough to count);
3. private accuracy of the retrained attacker within 5 points of the guessing level (given the task);
4. intended-task accuracy within 2 points of the model trained without privacy.
"""
from __future__ import annotations

from dataclasses import dataclass

MSSSIM_PROTECTED, MSSSIM_UNPROTECTED = 0.30, 0.90
PRIVATE_GAP, TASK_GAP = 0.05, 0.02


@dataclass
class TargetCheck:
    target: str
    measured: str
    met: bool | None          # None: not measured in this run


def _worst(setting: dict, highest: bool) -> tuple[str, float] | None:
    scores = {name: r["ms_ssim"] for name, r in setting.get("reconstructors", {}).items()}
    if not scores:
        return None
    name = (max if highest else min)(scores, key=scores.get)
    return name, scores[name]


def check_targets(results: dict) -> list[TargetCheck]:
    settings = results["settings"]
    main, plain = settings["deepobfuscator"], settings.get("no_adversarial")
    checks = []
    worst = _worst(main, highest=True)
    checks.append(TargetCheck(f"every retrained reconstructor MS-SSIM <= {MSSSIM_PROTECTED:.2f} (DeepObfuscator)",
                              f"highest: {worst[0]} {worst[1]:.4f}" if worst else "not run",
                              worst[1] <= MSSSIM_PROTECTED if worst else None))
    low = _worst(plain, highest=False) if plain else None
    checks.append(TargetCheck(f"every retrained reconstructor MS-SSIM >= {MSSSIM_UNPROTECTED:.2f} without adversarial "
                              "training", f"lowest: {low[0]} {low[1]:.4f}" if low else "not run",
                              low[1] >= MSSSIM_UNPROTECTED if low else None))
    guess, private = results["guessing"]["given_task"], main["private_attacker"]["accuracy"]
    checks.append(TargetCheck(f"private accuracy of the retrained attacker within {100 * PRIVATE_GAP:.0f} points of "
                              "guessing", f"{100 * private:.2f} vs guessing {100 * guess:.2f} "
                              f"({100 * (private - guess):+.2f} points)", abs(private - guess) <= PRIVATE_GAP + 1e-9))
    if plain:
        task, base = main["task_accuracy"]["accuracy"], plain["task_accuracy"]["accuracy"]
        checks.append(TargetCheck(f"intended-task accuracy within {100 * TASK_GAP:.0f} points of the model without "
                                  "privacy",
                                  f"{100 * task:.2f} vs {100 * base:.2f} ({100 * (task - base):+.2f} points)",
                                  base - task <= TASK_GAP + 1e-9))
    return checks
