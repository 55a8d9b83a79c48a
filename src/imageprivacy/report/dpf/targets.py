"""Issue 4's targets for a DPF run, checked from its results.json (the thresholds are the issue's, not measurements).

1. top-1 of phi2 on poisoned features within 1 point of the original features;
2. SSIM of psi's reconstructions from poisoned features <= 0.05, from original features >= 0.6;
3. every unseen reconstructor's SSIM from poisoned features <= 0.10;
4. phi3, trained only on the released poisoned features, within 2 points of Phi (new images).
"""
from __future__ import annotations

from dataclasses import dataclass

TOP1_GAP = 0.01
SSIM_POISONED, SSIM_ORIGINAL, SSIM_UNSEEN = 0.05, 0.60, 0.10
REUSE_GAP = 0.02
NEGATIVE_WARNING = 0.3        # SSIM to 1 - x above this: the reconstruction is a recognisable negative


@dataclass
class TargetCheck:
    target: str
    measured: str
    met: bool | None          # None: not measured in this run


def _blank_note(results: dict) -> str:
    blank = results.get("content_free", {}).get("blank (all black)")
    return f" (an all-black image scores {blank['ssim']:.4f})" if blank else ""


def _negative_note(rec: dict) -> str:
    # Minimising SSIM can be won by drawing the negative image, which still shows the content: say so.
    to_negative = rec["poisoned"].get("ssim_to_inverted")
    if to_negative is None or to_negative < NEGATIVE_WARNING:
        return ""
    return f"; but SSIM to the negative image is {to_negative:.4f}: psi draws inverted pictures"


def check_targets(results: dict) -> list[TargetCheck]:
    checks = []
    cls = results["classification"]
    gap = cls["original"]["top1"] - cls["poisoned"]["top1"]
    checks.append(TargetCheck("phi2 top-1, poisoned within 1 point of original",
                              f"{100 * cls['original']['top1']:.2f} -> {100 * cls['poisoned']['top1']:.2f} "
                              f"({-100 * gap:+.2f} points)", gap <= TOP1_GAP + 1e-9))
    rec = results["reconstruction"]
    checks.append(TargetCheck(f"psi SSIM <= {SSIM_POISONED} from poisoned (>= {SSIM_ORIGINAL} from original)",
                              f"{rec['original']['ssim']:.4f} -> {rec['poisoned']['ssim']:.4f}" + _negative_note(rec),
                              rec["poisoned"]["ssim"] <= SSIM_POISONED and rec["original"]["ssim"] >= SSIM_ORIGINAL))
    unseen = {k: v for k, v in results.get("unseen_reconstructors", {}).items() if "(psi)" not in k}
    if unseen:
        worst = max(unseen, key=lambda k: unseen[k]["poisoned"]["ssim"])
        checks.append(TargetCheck(f"every unseen reconstructor SSIM <= {SSIM_UNSEEN} from poisoned",
                                  f"highest: {worst} {unseen[worst]['poisoned']['ssim']:.4f}"
                                  + _blank_note(results),
                                  unseen[worst]["poisoned"]["ssim"] <= SSIM_UNSEEN))
    else:
        checks.append(TargetCheck(f"every unseen reconstructor SSIM <= {SSIM_UNSEEN}", "not run", None))
    reuse = results.get("reusability")
    if reuse:
        phi, phi3 = reuse["phi"]["top1"], reuse["phi3"]["new_images"]["top1"]
        checks.append(TargetCheck("phi3 (poisoned release only) within 2 points of Phi",
                                  f"Phi {100 * phi:.2f}, phi3 {100 * phi3:.2f} ({100 * (phi3 - phi):+.2f} points)",
                                  phi - phi3 <= REUSE_GAP + 1e-9))
    return checks
