"""The issue's targets, checked from a paper-suite results.json.

1. ConfounderGAN beats EMN: in the experiments where the paper compares the two at equal settings
   (in-distribution, transfer, augment), pair the two cells at each x; the share of complete
   pairs where ConfounderGAN's final test accuracy is strictly lower must be >= 80 %.
2. The defence table exists for every method, with nothing omitted: every method x defence of the
   defences experiment has a finished run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from imageprivacy.report.unlearnable.suite_tables import cells_of, pct, row_of, x_label

TARGET_SHARE = 0.80            # the target, not a measurement
PAIRED_EXPERIMENTS = ("in-distribution", "transfer", "augment")
OURS, BASELINE = "confoundergan", "emn"


@dataclass
class PairCount:
    lower: int = 0                                     # complete pairs where ConfounderGAN is lower
    complete: int = 0
    incomplete: list[str] = field(default_factory=list)    # "experiment / x" with a side missing

    @property
    def share(self) -> float | None:
        return self.lower / self.complete if self.complete else None


def count_pairs(results: dict, experiments=PAIRED_EXPERIMENTS) -> dict[str, PairCount]:
    """Per experiment (those present), how many ConfounderGAN / EMN pairs there are and how many it wins."""
    counts = {}
    for experiment in experiments:
        cells = cells_of(results, experiment)
        if not cells:
            continue
        count = counts[experiment] = PairCount()
        by_position = {(c["series"], str(c["x"])): c for c in cells}
        for x in dict.fromkeys(c["x"] for c in cells if c["series"] in (OURS, BASELINE)):
            ours, theirs = (row_of(results, by_position[(s, str(x))]) if (s, str(x)) in by_position else None
                            for s in (OURS, BASELINE))
            if ours is None or theirs is None or ours.get("final_test_acc") is None \
                    or theirs.get("final_test_acc") is None:
                count.incomplete.append(f"{experiment} / {x_label(x)}")
                continue
            count.complete += 1
            count.lower += ours["final_test_acc"] < theirs["final_test_acc"]
    return counts


def total(counts: dict[str, PairCount]) -> PairCount:
    return PairCount(sum(c.lower for c in counts.values()), sum(c.complete for c in counts.values()),
                     [name for c in counts.values() for name in c.incomplete])


def defence_coverage(results: dict) -> dict[str, tuple[list[str], list[str]]]:
    """method -> (defences with a finished run, defences listed for the suite but missing or not run)."""
    cells = cells_of(results, "defences")
    defences = list(dict.fromkeys(str(c["x"]) for c in cells))
    done = {(c["series"], str(c["x"])) for c in cells if row_of(results, c) is not None}
    return {m: ([d for d in defences if (m, d) in done], [d for d in defences if (m, d) not in done])
            for m in dict.fromkeys(c["series"] for c in cells)}


def _verdict(count: PairCount) -> str:
    if count.complete == 0 or count.incomplete:
        return "not enough cells"
    return "met" if count.share >= TARGET_SHARE else "not met"


def targets_section(results: dict) -> list[str]:
    counts = count_pairs(results)
    lines = ["## Targets", "",
             f"**ConfounderGAN below EMN** (target: in >= {100 * TARGET_SHARE:g} % of the paired cells of "
             f"{', '.join(PAIRED_EXPERIMENTS)}; final test accuracy, strictly lower).", "",
             "| experiment | pairs run | ConfounderGAN lower | share (%) | pairs not run |", "|---|---|---|---|---|"]
    for name, c in [*counts.items(), ("all", total(counts))]:
        lines.append(f"| {name} | {c.complete} | {c.lower} | {pct(c.share)} | {', '.join(c.incomplete) or '-'} |")
    overall = total(counts)
    lines += ["", f"Verdict: **{_verdict(overall)}**" + (
        f" ({pct(overall.share)} % of {overall.complete} pairs)" if overall.complete else "") + ".", ""]
    coverage = defence_coverage(results)
    lines += ["**Defence table for every method, nothing omitted**:"]
    if not coverage:
        return lines + ["not enough cells (the defences experiment is not in this run)."]
    lines += ["", "| method | defences run | missing |", "|---|---|---|"]
    lines += [f"| {m} | {', '.join(done) or '-'} | {', '.join(missing) or '-'} |" for m, (done, missing)
              in coverage.items()]
    complete = all(not missing for _, missing in coverage.values())
    return lines + ["", f"Verdict: **{'met' if complete else 'not met yet (runs missing)'}**."]
