"""Markdown report of the ConfounderGAN paper suite (experiments/unlearnable/paper_suite.py), from its
results.json only.

Every number in it is read from results.json, except the paper's own (paper_numbers), which are
set in italics and labelled as the paper's, in the paper's setting, not ours.
"""
from __future__ import annotations

from pathlib import Path

from imageprivacy.experiments.provenance import load_results
from imageprivacy.report.markdown_table import config_block, write_markdown
from imageprivacy.report.unlearnable.paper_numbers import PAPER_TABLES
from imageprivacy.report.unlearnable.suite_figures import FIGURES
from imageprivacy.report.unlearnable.suite_tables import (NOT_RUN, chance_level, experiments_in, grid_table,
                                                          paper_rows, paper_sources, pct, protected_table)
from imageprivacy.report.unlearnable.suite_targets import targets_section

TITLES = {"in-distribution": "In-distribution: 100 % protected training data (paper Fig. 4a-b)",
          "mixed": "Mixed training data: p protected + the rest natural or out-of-distribution (paper Fig. 5)",
          "curves-90": "Test accuracy curves at p = 90 % (paper Fig. 4c-d)",
          "transfer": "Transferability: noise made with ResNet-18, other victim architectures (paper Table 1)",
          "augment": "The victim's data augmentation (paper Table 2)",
          "defences": "Defences (APBench / ISS style; beyond the paper)",
          "adaptive": "Adaptive trainer: a noise remover trained with the generator (beyond the paper)"}
NOTES = {
    "mixed": "Polyline 4 uses a generator fitted on the first p of the training set only; polyline 5 also "
             "protects the rest with it (out of distribution). EMN's noise is crafted once on the whole "
             "training set and its first p taken, not fitted again per p.",
    "curves-90": "Curves 4-5 train on the protected 90 % alone; 'natural 10 % only' shows what the natural "
                 "remainder teaches by itself.",
    "defences": "ueraser and adversarial training act in the victim's training; the others filter the "
                "training images first. Early stopping is the best-epoch figure in brackets.",
}
LEGEND = (f'Entries: final (best-epoch) clean test accuracy in %; "{NOT_RUN}": the cell is in the suite but its '
          'victim run has not finished; "-": not part of the experiment.')


def _epsilon(results: dict) -> str:
    eps = results.get("epsilon")
    return "unknown" if eps is None else f"{eps * 255:g}/255"


def scale_sentence(results: dict) -> str:
    """Say plainly when this run is smaller than the paper's (full data sets, full-width nets, GPU)."""
    cfg = results.get("config", {})
    device = results.get("machine", {}).get("device", cfg.get("device", "unknown"))
    reduced = []
    for name in ("train_size", "test_size"):
        # The suite draws a subset only when the cap is below the data set's size; a smaller
        # count than the cap means the whole data set was used.
        cap = cfg.get(name)
        if cap is not None and results.get(name) == cap:
            reduced.append(f"{name.replace('_', ' ')} capped at {cap} images")
    if cfg.get("victim_width") is not None:
        reduced.append(f"victim networks at width {cfg['victim_width']} instead of their standard width")
    if not reduced:
        return (f"Scale: whole data set and standard-width networks, as in the paper (device {device}; "
                f"{cfg.get('victim_epochs', '?')} victim epochs).")
    return (f"This run (device {device}) is at a reduced scale compared with the paper, which trains on the "
            f"full data sets with full-width networks on a GPU: {'; '.join(reduced)}; "
            f"{cfg.get('victim_epochs', '?')} victim epochs. Compare trends, not absolute accuracies.")


def header_lines(results: dict) -> list[str]:
    cfg = results.get("config", {})
    machine = results.get("machine", {})
    gpu = f" ({machine['gpu']})" if machine.get("gpu") else ""
    chance = chance_level(results)
    cells = results.get("cells", [])
    shared = len(cells) - len({c["key"] for c in cells})
    return [f"Data: {cfg.get('data', 'unknown')}. Generated from `results.json` only (finished "
            f"{results.get('finished_utc', 'unknown')}, commit {results.get('git_commit') or 'unknown'}, device "
            f"{machine.get('device', cfg.get('device', 'unknown'))}{gpu}).", "",
            f"Scale: training set {results.get('train_size', '?')} images, clean test set "
            f"{results.get('test_size', '?')} images; victims trained {cfg.get('victim_epochs', '?')} epochs, "
            f"ResNet-18 width {cfg.get('victim_width') or 'standard'}; epsilon = {_epsilon(results)}; "
            f"seed {cfg.get('seed', '?')}.", "", scale_sentence(results), "",
            f"{len(cells)} cells, {len(results.get('rows', {}))} finished victim runs"
            + (f" ({shared} cells reuse another cell's run: same training data and recipe)" if shared else "")
            + "." + (f" Chance level: {pct(chance)} %." if chance is not None else "")]


def experiment_section(results: dict, experiment: str, figure_dir: Path | None = None) -> list[str]:
    """Title, note, the figure (when figure_dir is given and the paper has one) and the table."""
    lines = [f"## {TITLES.get(experiment, experiment)}", ""]
    if experiment in NOTES:
        gray = experiment == "defences" and results.get("channels") == 1
        lines += [NOTES[experiment] + (" The images are 1-channel, so grayscale leaves them unchanged: its row "
                                       "retrains on the same data and shows how repeatable a run is." if gray else ""),
                  ""]
    if figure_dir is not None and experiment in FIGURES:
        name = f"{experiment}.png"
        FIGURES[experiment](results, Path(figure_dir) / name, chance_level(results))
        lines += [f"![{experiment}]({name})", ""]
    tables = PAPER_TABLES.get(experiment, ())
    lines += [LEGEND + (" Rows in italics are the paper's numbers, in the paper's setting (full data, "
                        "full-width networks), not ours." if tables else ""), ""]
    lines += grid_table(results, experiment, paper_rows(tables))
    if tables:
        lines += ["", "Paper sources:", *paper_sources(tables)]
    return lines + [""]


def write_suite_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    results = load_results(run_dir)
    lines = ["# ConfounderGAN paper suite", "", *header_lines(results), "", "## Protected training sets", "",
             *protected_table(results), ""]
    for experiment in experiments_in(results):
        lines += experiment_section(results, experiment, run_dir)
    lines += [*targets_section(results), "", "## Configuration", "",
              *config_block(results.get("config", {})), "",
              "Versions: " + ", ".join(f"{k} {v}" for k, v in results.get("versions", {}).items())]
    return write_markdown(lines, run_dir)
