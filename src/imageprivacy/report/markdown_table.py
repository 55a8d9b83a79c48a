"""Markdown table rows and the number formats the reports share."""
from __future__ import annotations


def markdown_table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def percent(x) -> str:
    return "-" if x is None else f"{100 * x:.2f}"


def decimal(x, places: int = 4) -> str:
    return "-" if x is None else f"{x:.{places}f}"
