"""Default bounds that give every typed answer a length limit, so the grammar alone ends it.

Why: a grammar lets a random or chatty model write a string or a list for ever; with a bound on
every string, list and number, the longest document is finite, and a call's ``max_tokens`` set
to it (``sql_types.token_bound``) means no answer is ever cut short. The defaults:

- a string without ``maxLength`` (a VARCHAR without ``(n)``) holds at most ``STRING_LENGTH``
  characters; a ``pattern``, ``format``, ``enum`` or ``const`` bounds it already or not at all;
- a list without ``maxItems`` (``T[]``) holds at most ``LIST_ITEMS`` items;
- an integer stays within 64 bits (BIGINT's range: the grammar library's integers are 64-bit),
  a number below ``FLOAT_BOUND`` in magnitude (with at most six decimals, the grammar
  library's rule for a bounded number).

A ``json_schema :=`` gets the same defaults where it declares a ``type`` and no bound; a schema
that stays unbounded (a ``pattern`` like ``a+``, free-form ``additionalProperties``, recursion)
keeps ``max_tokens``'s default and an answer cut short there reads NULL, counted.
"""
from __future__ import annotations

STRING_LENGTH = 64
LIST_ITEMS = 16
FLOAT_BOUND = 10 ** 15
INT64 = (-(1 << 63), (1 << 63) - 1)

_VALUES = ("enum", "const", "default", "examples")     # JSON values, not schemas


def bounded(schema):
    """A copy of a JSON schema with the default bounds wherever a declared type has none."""
    if isinstance(schema, list):
        return [bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: (v if k in _VALUES else bounded(v)) for k, v in schema.items()}
    declared = out.get("type")
    types = set(declared) if isinstance(declared, list) else {declared}
    if "string" in types and not any(k in out for k in ("maxLength", "pattern", "format", "enum",
                                                         "const")):
        out["maxLength"] = max(STRING_LENGTH, out.get("minLength", 0))
    if "array" in types and "maxItems" not in out:
        out["maxItems"] = max(LIST_ITEMS, out.get("minItems", 0))
    if "integer" in types:
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["minimum"] = INT64[0]
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["maximum"] = INT64[1]
    elif "number" in types:
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["exclusiveMinimum"] = -FLOAT_BOUND
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["exclusiveMaximum"] = FLOAT_BOUND
    return out
