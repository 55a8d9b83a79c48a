"""Merge paper-suite run folders that share one config into one results.json.

    python -m imageprivacy.experiments.unlearnable.suite_merge runs/suite runs/suite-augment runs/suite-defences

Two suite processes must not write one folder at once (each rewrites results.json with its own
rows). On a machine with several cores, or several machines, run experiments in separate folders
that start from a copy of the same `protected/` sets, then merge them here. A merge is refused
unless every folder has the same config and the same records for the protected sets they share
(the victims must have trained on the same images); a victim run present in two folders must
agree too. The merged file lists where each part came from under "merged_from".
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from imageprivacy.errors import SuiteMergeError
from imageprivacy.experiments.provenance import load_results, write_results
from imageprivacy.experiments.unlearnable.suite_cells import listed_position

PROVENANCE = ("versions", "machine", "git_commit", "finished_utc")


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def merge_suite_runs(target: str | Path, sources: list[str | Path]) -> dict:
    """Fold each source's cells, rows and protected-set records into target's results.json."""
    target = Path(target)
    merged = load_results(target)
    history = merged.pop("merged_from", None) or [{"run": str(target), **{k: merged.get(k) for k in PROVENANCE}}]
    seen_cells = {listed_position(c) for c in merged["cells"]}
    for source in map(Path, sources):
        other = load_results(source)
        if not _same(other.get("config"), merged.get("config")):
            raise SuiteMergeError(f"{source} was run with another config than {target}; merge only one suite's folders")
        for name, record in other.get("protected", {}).items():
            if name in merged["protected"] and not _same(record, merged["protected"][name]):
                raise SuiteMergeError(f"protected set {name!r} differs between {source} and {target}: its victims "
                                      "trained on other images; start every folder from one copy of protected/")
            merged["protected"].setdefault(name, record)
        for key, row in other.get("rows", {}).items():
            if key in merged["rows"] and not _same(row, merged["rows"][key]):
                raise SuiteMergeError(f"{source} and {target} hold different results for one victim run ({key})")
            merged["rows"].setdefault(key, row)
        for cell in other.get("cells", []):
            if listed_position(cell) not in seen_cells:
                seen_cells.add(listed_position(cell))
                merged["cells"].append(cell)
        history = [h for h in history if h["run"] != str(source)]          # a folder merged again counts once
        history.append({"run": str(source), **{k: other.get(k) for k in PROVENANCE}})
    newest = max(history, key=lambda h: h.get("finished_utc") or "")
    merged.update({k: newest[k] for k in PROVENANCE}, merged_from=history)
    write_results(merged, target / "results.json")
    return merged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="the run folder to merge into (its results.json is rewritten)")
    parser.add_argument("sources", nargs="+", help="run folders of the same suite config")
    args = parser.parse_args(argv)
    merged = merge_suite_runs(args.target, args.sources)
    print(f"{args.target}/results.json: {len(merged['cells'])} cells, {len(merged['rows'])} victim runs "
          f"from {len(merged['merged_from'])} folders")


if __name__ == "__main__":
    main()
