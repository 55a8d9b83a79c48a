"""Issue 16's targets for a DPF run, checked from its results.json (the thresholds are the issue's, not measurements).

1. top-1 of phi2 on poisoned features within 1 point of the original features;
2. every reconstructor trained afresh on the public classes (the unseen ones), scored attacker-side (best of
   raw, negative, the remap fitted on public pairs and each output's contrast stretch: metrics.attacker_side), at
   most the best content-free reference + 0.02 SSIM on the same images;
3. the straw-man psi likewise;
4. phi3, trained only on the released poisoned features, within 2 points of Phi (new images).
Issue 4's thresholds (raw SSIM <= 0.05 / 0.10) were met by drawing negatives and by a blank image's score; they
are not checked any more.
"""
from __future__ import annotations

from dataclasses import dataclass

TOP1_GAP = 0.01
FLOOR_MARGIN = 0.02
REUSE_GAP = 0.02


@dataclass
class TargetCheck:
    target: str
    measured: str
    met: bool | None          # None: not measured in this run


def floor_ssim(results: dict) -> tuple[str, float] | None:
    """(name, SSIM) of the best content-free reference of the run."""
    refs = {k: v["ssim"] for k, v in results.get("content_free", {}).items() if v.get("ssim") is not None}
    if not refs:
        return None
    name = max(refs, key=refs.get)
    return name, refs[name]


def _attacker_ssim(row: dict) -> float:
    return row["attacker_side"]["ssim"]


def _reconstruction_check(label: str, rows: dict[str, dict], floor) -> TargetCheck:
    target = f"{label}: attacker-side SSIM from poisoned <= best content-free + {FLOOR_MARGIN}"
    if not rows or floor is None:
        return TargetCheck(target, "not run", None)
    worst = max(rows, key=lambda k: _attacker_ssim(rows[k]["poisoned"]))
    value, variant = _attacker_ssim(rows[worst]["poisoned"]), rows[worst]["poisoned"]["attacker_variant"]["ssim"]
    return TargetCheck(target, f"highest: {worst} {value:.4f} ({variant}; raw {rows[worst]['poisoned']['ssim']:.4f}) "
                               f"vs {floor[0]} {floor[1]:.4f}", value <= floor[1] + FLOOR_MARGIN + 1e-9)


def check_targets(results: dict) -> list[TargetCheck]:
    checks = []
    cls = results["classification"]
    gap = cls["original"]["top1"] - cls["poisoned"]["top1"]
    checks.append(TargetCheck("phi2 top-1, poisoned within 1 point of original",
                              f"{100 * cls['original']['top1']:.2f} -> {100 * cls['poisoned']['top1']:.2f} "
                              f"({-100 * gap:+.2f} points)", gap <= TOP1_GAP + 1e-9))
    floor = floor_ssim(results)
    unseen = {k: v for k, v in results.get("unseen_reconstructors", {}).items() if "(psi)" not in k}
    checks.append(_reconstruction_check("every reconstructor trained afresh on the public classes", unseen, floor))
    checks.append(_reconstruction_check("the straw-man psi", {"psi": results["reconstruction"]}, floor))
    reuse = results.get("reusability")
    if reuse:
        phi, phi3 = reuse["phi"]["top1"], reuse["phi3"]["new_images"]["top1"]
        checks.append(TargetCheck("phi3 (poisoned release only) within 2 points of Phi",
                                  f"Phi {100 * phi:.2f}, phi3 {100 * phi3:.2f} ({100 * (phi3 - phi):+.2f} points)",
                                  phi - phi3 <= REUSE_GAP + 1e-9))
    return checks
