"""How the CLI writes a result: ``table`` for people, ``csv`` and ``json`` for programs,
``line`` for wide rows (one ``column = value`` line each), as ``.mode`` does in the DuckDB and
SQLite shells.

Machine-readable modes carry every value whole and unescaped; a program reading them gets
exactly what the query returned, and an EXPLAIN plan as a one-column result, except that
``EXPLAIN (FORMAT JSON)`` is the JSON document itself in both (a program asked for JSON).
Several results (a script) are written one after another: CSV blocks separated by an empty
line, and one JSON value per result.
"""
from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime, time
from decimal import Decimal

from .table_format import cell, format_table

MODES = ("table", "csv", "json", "line")
PLAN_COLUMN = "QUERY PLAN"
EXPLAIN_COLUMNS = ([PLAN_COLUMN], ["explain_key", "explain_value"])


def is_plan(columns: list[str]) -> bool:
    """EXPLAIN's result: ours (one ``QUERY PLAN`` column) or DuckDB's own."""
    return columns in EXPLAIN_COLUMNS


def plan_lines(rows: list[tuple]) -> list[str]:
    """A plan's text lines: ours has one per row; DuckDB's has its tree in one value."""
    return [line for r in rows for line in str(r[-1]).rstrip("\n").split("\n")]


def json_plan(lines: list[str]) -> str | None:
    """The document of an ``EXPLAIN (FORMAT JSON)`` (ours or DuckDB's), None for a text plan."""
    text = "\n".join(lines)
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        json.loads(text)
    except ValueError:
        return None
    return text


def render(mode: str, columns: list[str], rows: list[tuple], width: int | None = None) -> str:
    """The result as text (without a final newline). ``width`` only cuts ``table`` cells.
    A plan (EXPLAIN) is never put in a table: people read it as plain lines (table and line
    modes), programs get it as a one-column ``QUERY PLAN`` result, a row per line (csv, json),
    so piped output still parses; a JSON plan is its document, which ``json.load`` reads."""
    if is_plan(columns):
        lines = plan_lines(rows)
        document = json_plan(lines)
        if mode in ("table", "line") or document is not None:
            return "\n".join(lines)
        columns, rows = [PLAN_COLUMN], [(line,) for line in lines]
    if mode == "table":
        return format_table(columns, rows, width)
    if mode == "csv":
        return _csv(columns, rows)
    if mode == "json":
        return _json(columns, rows)
    if mode == "line":
        return _line(columns, rows)
    raise ValueError(f"unknown output mode {mode!r}; choose one of {', '.join(MODES)}")


def _csv(columns: list[str], rows: list[tuple]) -> str:
    """RFC 4180 (quoted where needed); NULL is an empty field, as DuckDB writes it. Records
    end in ``\n``, yet a value holding ``\r`` is quoted too: the csv module quotes only the
    characters of its line terminator, so each record is written with ``\r\n`` (quoting
    both) and that terminator, always the record's last two characters, becomes ``\n``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    records = []
    for row in [columns] + [["" if v is None else _plain(v) for v in row] for row in rows]:
        out.seek(0)
        out.truncate()
        writer.writerow(row)
        records.append(out.getvalue()[:-2])
    return "\n".join(records)


def _json(columns: list[str], rows: list[tuple]) -> str:
    """An array of objects, one per line, as the DuckDB shell's json mode writes it."""
    objects = [json.dumps(dict(zip(columns, map(_json_value, row))), ensure_ascii=False)
               for row in rows]
    return "[" + ",\n".join(objects) + "]"


def _line(columns: list[str], rows: list[tuple]) -> str:
    pad = max((len(c) for c in columns), default=0)
    return "\n\n".join("\n".join(f"{c.rjust(pad)} = {cell(v)}" for c, v in zip(columns, row))
                       for row in rows)


def _plain(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _json_value(value):
    """JSON has no NaN, dates or decimals: those become strings; lists and dicts recurse."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, Decimal):         # a number where a float holds it exactly
        return float(value) if Decimal(repr(float(value))) == value else str(value)
    return _plain(value)
