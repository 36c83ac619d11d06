"""A typed call's options, checked at plan time: ``returns :=``, ``json_schema :=``,
``on_error :=`` and the ``max_tokens`` its type needs.

Why here and not at run time: everything about a typed answer's shape is known from the call's
text, so a bad type, a schema the grammar library rejects, or a ``max_tokens`` too small for the
type fails before any inference, naming the call as written.

The budget rule: a typed answer's grammar bounds its length (every string, list and number has
a bound, by the type or by ``schema_bounds``' defaults), and every token writes at least one
byte of it, so the grammar's longest document in bytes is the most tokens an answer can take.
That bound is the call's ``max_tokens`` unless the call gives one; a smaller one is an error,
since it could cut an answer short. A ``json_schema`` that stays unbounded keeps
``max_tokens``'s default (``UNBOUNDED_SCHEMA_TOKENS``), and an answer cut there reads NULL.
"""
from __future__ import annotations

import json

from executor import schema_bounds, sql_types
from executor.llm_call import DEFAULT_MAX_TOKENS, ON_ERROR
from executor.query_errors import BadCallError, InferenceError

UNBOUNDED_SCHEMA_TOKENS = 4 * DEFAULT_MAX_TOKENS
_BOUNDS_NOTE = (f"a VARCHAR holds at most {schema_bounds.STRING_LENGTH} characters and a list "
                f"{schema_bounds.LIST_ITEMS} items unless the type says otherwise")


def typed_options(sql: str, function: str, out: dict) -> None:
    """Check ``returns :=`` (a DuckDB type, read by DuckDB) or ``json_schema :=`` on LLM and
    LLM_EXTRACT (a filter or classifier already has its answer's type), normalize the schema
    with its default bounds, and set ``max_tokens`` to what the type needs."""
    typed = [name for name in ("returns", "json_schema") if name in out]
    if typed and function not in ("LLM", "LLM_EXTRACT"):
        raise BadCallError(f"{sql}: {function} takes no {typed[0]} := (its answer is "
                           f"{'a BOOLEAN' if function == 'LLM_FILTER' else 'one of its labels'}); "
                           "use LLM(..., returns := 'TYPE') for a typed answer")
    if len(typed) == 2:
        raise BadCallError(f"{sql}: give returns := or json_schema :=, not both")
    if out.get("on_error", ON_ERROR[0]) not in ON_ERROR:
        raise BadCallError(f"{sql}: on_error := takes " + " or ".join(f"'{v}'" for v in ON_ERROR))
    if function == "LLM_EXTRACT" and (
            "returns" not in out or sql_types.parse_type(out["returns"]).id != "struct"):
        raise BadCallError(f"{sql}: LLM_EXTRACT needs returns := 'STRUCT(field TYPE, ...)': "
                           "the record's fields and types, which its prompt asks for")
    if "returns" in out:
        try:
            schema = sql_types.json_schema(out["returns"])
        except BadCallError as exc:
            raise BadCallError(f"{sql}: {exc}") from exc
        _budget(sql, out, schema, f"returns := {out['returns']!r}")
    elif "json_schema" in out:
        try:
            schema = json.loads(out["json_schema"])
        except ValueError as exc:
            raise BadCallError(f"{sql}: json_schema := is not valid JSON ({exc})") from exc
        if not isinstance(schema, dict):
            raise BadCallError(f"{sql}: json_schema := must be a JSON object (a JSON Schema)")
        out["json_schema"] = json.dumps(schema_bounds.bounded(schema))   # keys in the order written
        _budget(sql, out, out["json_schema"], "json_schema :=")


def _budget(sql: str, out: dict, schema: str, what: str) -> None:
    """Set or check ``out['max_tokens']`` against the most tokens an answer of ``schema`` can
    take; the grammar library reads the schema here, so its complaints name the call."""
    try:
        bound = sql_types.token_bound(schema)
    except InferenceError as exc:
        raise InferenceError(f"{sql}: {exc}") from None
    except BadCallError as exc:
        raise BadCallError(f"{sql}: {what} is not usable: {exc}") from None
    if bound is None:
        out.setdefault("max_tokens", UNBOUNDED_SCHEMA_TOKENS)
    elif "max_tokens" not in out:
        out["max_tokens"] = bound
    elif out["max_tokens"] < bound:
        raise BadCallError(
            f"{sql}: max_tokens := {out['max_tokens']} is less than the {bound} tokens an answer of "
            f"{what} may take, so an answer could be cut short. Leave max_tokens := out (a typed "
            f"answer is bounded by its type: {_BOUNDS_NOTE}), or bound the type more tightly "
            "(VARCHAR(n), a JSON schema's maxLength or maxItems)")
