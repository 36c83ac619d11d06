"""The SQL oracle: plain DuckDB with one-row-at-a-time Python UDFs calling the same model.

``naive_sql`` turns each LLM call into a call of a native (per-row) UDF that receives the
instruction, labels, field names and field values; the UDF builds the documented prompt
(instruction, ``name: value`` lines, answer hint) and makes one greedy ``generate`` call per
row. It is written independently of the optimizer, so an optimized query must return exactly
what its naive translation returns.

A typed call (``returns :=``, ``json_schema :=``, LLM_EXTRACT) decodes under the documented
grammar of its type (``sql_types.json_schema``, with the documented budget, the type's longest
answer) and its JSON answer becomes the type's value through DuckDB's own JSON cast: a
``TRY_CAST`` (NULL where the type cannot hold the answer), or ``json_extract_string`` for a
VARCHAR, whose JSON cast would keep the quotes.
"""
from __future__ import annotations

import json
import threading

import duckdb
import sqlglot
from sqlglot import exp

from executor import schema_bounds, sql_types
from executor.engine import Engine, EngineConfig, Request

_KINDS = {"LLM": "llm", "LLM_FILTER": "filter", "LLM_CLASSIFY": "classify", "LLM_EXTRACT": "extract"}
_UNBOUNDED_SCHEMA_TOKENS = 128          # README: an unbounded json_schema keeps this default


def _prompt(kind, instruction, labels, names, values, returns) -> str:
    if instruction is None:
        return values[0]
    lines = [instruction] + [f"{n}: {'NULL' if v is None else v}" for n, v in zip(names, values)]
    if kind == "filter":
        lines.append("Answer yes or no.")
    elif kind == "classify":
        lines.append("Answer with one of: " + ", ".join(labels) + ".")
    elif kind == "extract":
        fields = ", ".join(f"{n} ({t})" for n, t in duckdb.sqltype(returns).children)
        lines.append(f"Answer with a JSON object: {fields}, or null where not given.")
    return "\n".join(lines) + "\n"


def naive_connection(model: str, calls: list | None = None,
                     field_orders: dict | None = None) -> duckdb.DuckDBPyConnection:
    """``calls``, if given, is a one-element list that counts the model calls made.
    ``field_orders`` maps a call's field names to the per-row orders a plan chose
    (``executor.field_orders.FieldOrders``): the oracle then lists each row's fields in its
    order."""
    engine = Engine(EngineConfig(model=model, kv_cache_bytes=8 << 20))
    calls = calls if calls is not None else [0]
    lock = threading.Lock()         # DuckDB calls UDFs from several threads; the engine is not safe

    def answer(kind, instruction, labels, names, values, max_tokens, returns, schema):
        orders = (field_orders or {}).get(tuple(names or ()))
        if orders is not None:
            perm = orders.order_of(values)
            names, values = [names[i] for i in perm], [values[i] for i in perm]
        prompt = _prompt(kind, instruction, labels, names, values, returns)
        if prompt is None:
            return None
        choices = ["yes", "no"] if kind == "filter" else (list(labels) if kind == "classify" else None)
        with lock:
            calls[0] += 1
            return engine.generate([Request(prompt=prompt, chat=True, max_tokens=max_tokens,
                                            choices=choices, json_schema=schema)])[0].text

    params = ["VARCHAR", "VARCHAR", "VARCHAR[]", "VARCHAR[]", "VARCHAR[]", "INTEGER", "VARCHAR",
              "VARCHAR"]
    kw = dict(type="native", null_handling="special", side_effects=True)
    con = duckdb.connect()
    con.create_function("naive_text", answer, params, "VARCHAR", **kw)

    def filt(kind, instruction, labels, names, values, max_tokens, returns, schema):
        text = answer(kind, instruction, labels, names, values, max_tokens, returns, schema)
        return None if text is None else text == "yes"

    con.create_function("naive_filter", filt, params, "BOOLEAN", **kw)
    return con


def _string_or_null(value: str | None) -> exp.Expression:
    return exp.Null() if value is None else exp.Literal.string(value)


def _typed_value(call: exp.Expression, returns: str | None, schema: str | None) -> exp.Expression:
    """A typed call's JSON answer as its SQL value, by DuckDB's JSON cast."""
    if returns is None:
        return exp.cast(call, "JSON") if schema is not None else call
    if duckdb.sqltype(returns).id == "varchar":
        return exp.Anonymous(this="json_extract_string", expressions=[call, exp.Literal.string("$")])
    return exp.TryCast(this=exp.cast(call, "JSON"), to=exp.DataType.build(returns, dialect="duckdb"))


def _strings(values) -> exp.Expression:
    return exp.cast(exp.Array(expressions=[exp.Literal.string(v) for v in values]), "VARCHAR[]")


def naive_sql(sql: str) -> str:
    """``sql`` with every LLM call replaced by its per-row UDF equivalent."""
    def swap(node):
        if not (isinstance(node, exp.Anonymous) and str(node.this).upper() in _KINDS):
            return node
        kind = _KINDS[str(node.this).upper()]
        options, args = {}, []
        for a in node.expressions:
            if isinstance(a, exp.PropertyEQ):
                assert a.this.name in ("max_tokens", "returns", "json_schema"), \
                    "the oracle knows max_tokens :=, returns := and json_schema :="
                options[a.this.name] = a.expression.this
            else:
                args.append(a)
        returns, schema = options.get("returns"), options.get("json_schema")
        if returns is not None:
            schema = sql_types.json_schema(returns)
        elif schema is not None:
            schema = json.dumps(schema_bounds.bounded(json.loads(schema)))
        budget = 32 if schema is None else sql_types.token_bound(schema) or _UNBOUNDED_SCHEMA_TOKENS
        max_tokens = exp.Literal.number(int(options.get("max_tokens", budget)))
        labels = []
        if kind == "classify":
            labels = [e.this for e in args.pop(1).expressions]
        if len(args) == 1:
            instruction, fields = exp.Null(), args
        else:
            instruction, fields = args[0], args[1:]
        names = [f.name if isinstance(f, exp.Column) else f.sql(dialect="duckdb") for f in fields]
        fields = [f.transform(swap) for f in fields]          # nested calls: inner ones too
        values = exp.cast(exp.Array(expressions=[exp.cast(f, "VARCHAR") for f in fields]), "VARCHAR[]")
        fn = "naive_filter" if kind == "filter" else "naive_text"
        call = exp.Anonymous(this=fn, expressions=[exp.Literal.string(kind), instruction,
                                                   _strings(labels), _strings(names), values,
                                                   max_tokens, _string_or_null(returns),
                                                   _string_or_null(schema)])
        return _typed_value(call, returns, schema)

    return sqlglot.parse_one(sql, dialect="duckdb").transform(swap).sql(dialect="duckdb")


FIXTURE_SQL = """
CREATE TABLE movies (id INTEGER, title VARCHAR, info VARCHAR);
INSERT INTO movies VALUES
  (1, 'Harbor Lights', 'A fisherman''s daughter runs the family boat through a hard winter.'),
  (2, 'The Last Orbit', 'Two astronauts argue about whether to come home.'),
  (3, 'Paper Crowns', 'A children''s theatre troupe stages a play about kings.');
CREATE TABLE reviews (id INTEGER, movie_id INTEGER, stars INTEGER, review VARCHAR);
INSERT INTO reviews VALUES
  (1, 1, 5, 'A warm, patient film with a great cast.'),
  (2, 1, 2, 'Slow, grey and far too long.'),
  (3, 2, 4, 'Tense and clever; the ending surprised me.'),
  (4, 2, 1, 'I left before the end.'),
  (5, 3, 5, 'Pure joy for the whole family.'),
  (6, 3, 3, NULL),
  (7, 1, 5, 'A warm, patient film with a great cast.'),
  (8, 2, 2, 'The plot made no sense.');
"""
