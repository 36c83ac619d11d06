"""Aligned plain-text tables for the CLI: readable on a terminal, stable when piped."""
from __future__ import annotations

from decimal import Decimal


def cell(value) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return text.replace("\n", "\\n")


def _is_number(value) -> bool:
    """Numbers align right; booleans are ints to Python but read as words, so align left."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def format_table(columns: list[str], rows: list[tuple], max_width: int = 60) -> str:
    cells = [[cell(v) for v in row] for row in rows]
    cells = [[c if len(c) <= max_width else c[:max_width - 1] + "…" for c in row] for row in cells]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(columns)]
    numeric = [rows and all(_is_number(row[i]) or row[i] is None for row in rows)
               for i in range(len(columns))]

    def line(values):
        return " | ".join(v.rjust(w) if num else v.ljust(w)
                          for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(columns), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
