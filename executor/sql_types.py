"""Typed answers: a DuckDB type as the JSON schema the engine decodes under, and the answer's
JSON text back as that type's value.

    LLM('Year of release?', title, returns := 'INTEGER')               -- 1999, never "c. 1999"
    LLM('Who and where?', note, returns := 'STRUCT(name VARCHAR, city VARCHAR)')

The engine's grammar guarantees the shape (an integer in the type's range, a day that exists,
an object with these keys); an answer that still is not a value of the type (a DECIMAL that
rounds past its digits, a ``json_schema`` document cut short) becomes NULL and is counted, or
an error with ``on_error := 'raise'``. DuckDB itself parses the type
text, so a bad type reads in DuckDB's own words. Each STRUCT field may be ``null``: a value the
text does not give is NULL, not an invented one.
"""
from __future__ import annotations

import datetime
import decimal
import functools
import json
import re

import duckdb

from .query_errors import BadCallError, InferenceError
from .schema_bounds import FLOAT_BOUND, INT64, LIST_ITEMS, STRING_LENGTH

_INTEGERS = {"tinyint": 8, "smallint": 16, "integer": 32, "bigint": 64, "hugeint": 128,
             "utinyint": -8, "usmallint": -16, "uinteger": -32, "ubigint": -64, "uhugeint": -128}
# A day that exists, and nothing else: years 0001-9999, each month's own length, and February
# 29th in leap years only (divisible by 4; of the centuries, those divisible by 400).
_YEAR = r"(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_MONTH_DAY = (r"((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
              r"|02-(0[1-9]|1[0-9]|2[0-8]))")
_LEAP = r"0[48]|[2468][048]|[13579][26]"
_DAY = f"({_YEAR}-{_MONTH_DAY}|([0-9]{{2}}({_LEAP})|({_LEAP})00)-02-29)"
_DATE = f"^{_DAY}$"
_TIMESTAMP = f"^{_DAY} ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
_VARCHAR_LENGTH = re.compile(r"^\s*(?:VARCHAR|TEXT|STRING)\s*\(\s*(\d+)\s*\)\s*$", re.IGNORECASE)
# ``name VARCHAR(n)`` inside a STRUCT: DuckDB drops the length, so it is read from the text
_FIELD_LENGTH = re.compile(r"(?:^|[(,])\s*(\"[^\"]+\"|\w+)\s+(?:VARCHAR|TEXT|STRING)\s*\(\s*(\d+)\s*\)",
                           re.IGNORECASE)
_TOKENS_PER_CHAR = 0.3          # rough: what a value of a given length costs to decode


class CastFailure(ValueError):
    """The answer fits the grammar but not the type (a day that does not exist, say)."""


@functools.lru_cache(maxsize=256)
def parse_type(text: str) -> duckdb.DuckDBPyType:
    """DuckDB's own reading of a type; its error, in its words, names the call."""
    try:
        return duckdb.sqltype(text)
    except duckdb.Error as exc:
        raise BadCallError(f"returns := {text!r}: {exc}") from exc


@functools.lru_cache(maxsize=256)
def json_schema(text: str) -> str:
    """The JSON schema (as text) that keeps a generation inside the type ``text``."""
    lengths = {name.strip('"').lower(): int(n) for name, n in _FIELD_LENGTH.findall(text)}
    schema = _schema(parse_type(text), lengths)
    m = _VARCHAR_LENGTH.match(text)
    if m:
        schema["maxLength"] = int(m.group(1))
    return json.dumps(schema)     # properties in the STRUCT's order: the document's key order


def _schema(t: duckdb.DuckDBPyType, lengths: dict[str, int], field: str = "") -> dict:
    """``lengths``: the VARCHAR(n) fields' lengths by name; ``field``: the field ``t`` is."""
    kind = t.id
    if kind == "boolean":
        return {"type": "boolean"}
    if kind in _INTEGERS:
        # the range bounds the digits too; the grammar library's integers are 64-bit, so the
        # widest types (UBIGINT, HUGEINT) answer within BIGINT's range
        low, high = _integer_range(kind)
        return {"type": "integer", "minimum": max(low, INT64[0]), "maximum": min(high, INT64[1])}
    if kind == "decimal":
        bound = 10 ** (dict(t.children)["precision"] - dict(t.children)["scale"])
        return {"type": "number", "exclusiveMinimum": -bound, "exclusiveMaximum": bound}
    if kind in ("float", "double"):       # bounded, so the grammar bounds the digits too
        return {"type": "number", "exclusiveMinimum": -FLOAT_BOUND, "exclusiveMaximum": FLOAT_BOUND}
    if kind == "date":
        return {"type": "string", "pattern": _DATE}
    if kind == "timestamp":
        return {"type": "string", "pattern": _TIMESTAMP}
    if kind == "varchar":
        return {"type": "string", "maxLength": lengths.get(field.lower(), STRING_LENGTH)}
    if kind == "enum":
        return {"enum": list(dict(t.children)["values"])}
    if kind == "list":
        return {"type": "array", "items": _schema(dict(t.children)["child"], lengths, field),
                "maxItems": LIST_ITEMS}
    if kind == "array":                                  # INTEGER[3]: exactly that many items
        size = dict(t.children)["size"]
        return {"type": "array", "items": _schema(dict(t.children)["child"], lengths, field),
                "minItems": size, "maxItems": size}
    if kind == "struct":
        fields = t.children
        return {"type": "object", "additionalProperties": False,
                "required": [name for name, _ in fields],
                "properties": {name: {"anyOf": [_schema(ft, lengths, name), {"type": "null"}]}
                               for name, ft in fields}}
    raise BadCallError(f"returns := {str(t)!r}: typed answers support BOOLEAN, integers, FLOAT, "
                       "DOUBLE, DECIMAL, DATE, TIMESTAMP, VARCHAR, ENUM, lists (T[], T[n]) and STRUCTs")


def _integer_range(kind: str) -> tuple[int, int]:
    """The smallest and largest value of a DuckDB integer type (negative bits: unsigned)."""
    bits = _INTEGERS[kind]
    return (0, (1 << -bits) - 1) if bits < 0 else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def record_hint(text: str | None) -> str | None:
    """LLM_EXTRACT's closing line: the record's fields and their types, in the STRUCT's order.

        Answer with a JSON object: name (VARCHAR), city (VARCHAR), or null where not given."""
    t = parse_type(text) if text else None
    if t is None or t.id != "struct":
        return None
    fields = ", ".join(f"{name} ({ft})" for name, ft in t.children)
    return f"Answer with a JSON object: {fields}, or null where not given."


def decode_tokens(text: str, max_tokens: int) -> int:
    """About how many tokens an answer of type ``text`` decodes: what EXPLAIN estimates."""
    return min(max_tokens, _tokens(parse_type(text)))


def _tokens(t: duckdb.DuckDBPyType) -> int:
    kind = t.id
    if kind == "struct":
        return 2 + sum(len(name) * _TOKENS_PER_CHAR + 3 + _tokens(ft) for name, ft in t.children)
    if kind == "list":
        return 2 + 3 * (_tokens(dict(t.children)["child"]) + 1)
    if kind == "array":
        return 2 + dict(t.children)["size"] * (_tokens(dict(t.children)["child"]) + 1)
    return {"boolean": 1, "date": 6, "timestamp": 10, "varchar": 12}.get(kind, 4)


def token_bound(schema: str) -> int | None:
    """The most tokens an answer under JSON schema ``schema`` can take, read off its grammar
    (each token writes at least one byte of the document); None when the schema sets no bound.
    ``BadCallError`` says what the grammar library rejects, ``InferenceError`` that it is not
    installed (with the fix)."""
    from .engine.grammar import LibraryMissing, SchemaError, max_document_tokens

    try:
        return max_document_tokens(schema)
    except LibraryMissing as exc:
        raise InferenceError(str(exc)) from None
    except SchemaError as exc:
        raise BadCallError(f"the grammar library rejects it: {exc}") from None


def json_document(text: str | None) -> str | None:
    """A ``json_schema :=`` answer as stored: the document, if it is complete JSON (an answer
    cut short by ``max_tokens`` is not)."""
    if text is None:
        return None
    try:
        json.loads(text, strict=False)
    except ValueError as exc:
        raise CastFailure(f"{text[:40]!r}... is not a complete JSON document: {exc}") from exc
    return text


def value_of(text: str | None, type_text: str):
    """The SQL value of an answer's JSON text; ``CastFailure`` when the type cannot hold it
    (an answer cut short by ``max_tokens`` is not JSON: that fails too)."""
    if text is None:
        return None
    try:
        # strict=False: the grammar lets a string hold a raw control character; JSON's strict
        # reading would refuse what the type holds fine
        return _value(json.loads(text, parse_float=decimal.Decimal, strict=False),
                      parse_type(type_text))
    except (ValueError, TypeError, decimal.InvalidOperation) as exc:
        raise CastFailure(f"{text!r} is not a {type_text}: {exc}") from exc


def _value(v, t: duckdb.DuckDBPyType):
    if v is None:
        return None
    kind = t.id
    if kind in _INTEGERS:
        low, high = _integer_range(kind)
        if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
            raise ValueError(f"{v!r} is out of range")
        return v
    if kind == "boolean":
        return bool(v)
    if kind in ("float", "double"):
        return float(v)
    if kind == "decimal":
        return _decimal(decimal.Decimal(v), **dict(t.children))
    if kind == "date":
        return datetime.date.fromisoformat(v)
    if kind == "timestamp":
        return datetime.datetime.fromisoformat(v)
    if kind in ("list", "array"):
        child = dict(t.children)["child"]
        return [_value(item, child) for item in v]
    if kind == "struct":
        return {name: _value(v.get(name), ft) for name, ft in t.children}
    return v                                    # VARCHAR, ENUM


def _decimal(v: decimal.Decimal, precision: int, scale: int) -> decimal.Decimal:
    """``v`` rounded to ``scale`` places, if DECIMAL(precision, scale) holds it."""
    if not v.is_finite():
        raise ValueError(f"{v} is not a finite number")
    rounded = v.quantize(decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_EVEN)
    if len(rounded.as_tuple().digits) > precision:
        raise ValueError(f"{v} has more than {precision - scale} digits before the point")
    return rounded


@functools.lru_cache(maxsize=256)
def arrow_type(text: str):
    """The Arrow type DuckDB reads back as ``text`` (what a typed UDF returns)."""
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT NULL::{text} AS v").arrow().schema.field(0).type
    finally:
        con.close()
