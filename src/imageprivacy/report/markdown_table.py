"""Markdown pieces every report shares: tables, number formats, the config block, the file itself."""
from __future__ import annotations

import json
from pathlib import Path


def markdown_table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def percent(x) -> str:
    return "-" if x is None else f"{100 * x:.2f}"


def decimal(x, places: int = 4) -> str:
    return "-" if x is None else f"{x:.{places}f}"


def config_block(config: dict) -> list[str]:
    """The run's full configuration as a fenced JSON block, so a report says exactly what ran."""
    return ["```json", json.dumps(config, indent=2), "```"]


def write_markdown(lines: list[str], run_dir: Path) -> Path:
    path = Path(run_dir) / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
