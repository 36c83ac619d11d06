"""Aligned plain-text tables for the CLI's ``table`` mode.

Every character printed is visible and takes one column: newlines, carriage returns and other
control characters in a value (an LLM answer can hold anything) are shown escaped, so they can
never overwrite the table. Values are whole unless a terminal width is given; then the widest
columns are cut, with an ellipsis, until the table fits the terminal.
"""
from __future__ import annotations

import re
from decimal import Decimal

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SEPARATOR = " | "
MIN_WIDTH = 8            # a column is never cut narrower than this


def escape(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\r``, ``\\x04``)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(0), f"\\x{ord(m.group(0)):02x}"), text)


def cell(value) -> str:
    return "NULL" if value is None else escape(str(value))


def _is_number(value) -> bool:
    """Numbers align right; booleans are ints to Python but read as words, so align left."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def fit_widths(natural: list[int], total: int | None) -> list[int]:
    """Column widths that fit ``total`` characters with separators, by capping the widest
    columns at one common width (never below ``MIN_WIDTH`` or a column's own need)."""
    if total is None or not natural:
        return natural
    room = total - len(_SEPARATOR) * (len(natural) - 1)
    if sum(natural) <= room:
        return natural
    low, high = MIN_WIDTH, max(natural)
    while low < high:                           # the largest cap that still fits
        cap = (low + high + 1) // 2
        if sum(min(w, cap) for w in natural) <= room:
            low = cap
        else:
            high = cap - 1
    return [min(w, low) for w in natural]


def format_table(columns: list[str], rows: list[tuple], width: int | None = None) -> str:
    """The rows as a table; ``width`` (a terminal's) cuts the widest cells so it fits."""
    heads = [escape(c) for c in columns]
    cells = [[cell(v) for v in row] for row in rows]
    natural = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    widths = fit_widths(natural, width)
    numeric = [bool(rows) and all(_is_number(row[i]) or row[i] is None for row in rows)
               for i in range(len(columns))]

    def line(values):
        return _SEPARATOR.join(_cut(v, w).rjust(w) if num else _cut(v, w).ljust(w)
                               for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(heads), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
