"""Typed answers end to end on a random, untrained model: the grammar alone keeps every answer
inside its type, and every answer ends within the call's max_tokens (the type's longest
answer), so every row of every type has a value. A NULL is only ever an answer cut short (an
unbounded json_schema with too small a max_tokens), and every one is counted in
``cursor.stats.cast_failures``."""
from __future__ import annotations

import datetime
import decimal
import json

import pytest

import infersql

ROWS = 500


@pytest.fixture(scope="module")
def conn(tiny_model):
    c = infersql.connect(model=tiny_model)
    c.execute(f"CREATE TABLE t AS SELECT i, 'row number ' || i AS note FROM range({ROWS}) t(i)")
    yield c
    c.close()


def _answers(conn, sql: str) -> tuple[list, object]:
    cur = conn.cursor()
    rows = cur.execute(sql).fetchall()
    assert len(rows) == ROWS
    return [r[0] for r in rows], cur


def _short(v, n: int = 64) -> bool:
    """A string of at most ``n`` characters as the grammar counts them; a byte-level token that
    ends mid-character reads back as U+FFFD, so the decoded text may count a few more."""
    return isinstance(v, str) and len(v.replace("\ufffd", "")) <= n


def _ints(v, n: int = 16) -> bool:
    return isinstance(v, list) and len(v) <= n and all(isinstance(x, int) for x in v)


# Every supported type, 500 rows each, on a random model: no NULL, no cast failure. Strings and
# lists without a bound get the defaults (64 characters, 16 items), so every answer's grammar
# ends within the call's max_tokens, which is the type's longest answer.
TYPES = [
    ("BOOLEAN", lambda v: isinstance(v, bool)),
    ("INTEGER", lambda v: isinstance(v, int) and -2**31 <= v < 2**31),
    ("TINYINT", lambda v: isinstance(v, int) and -128 <= v <= 127),
    ("UBIGINT", lambda v: isinstance(v, int) and 0 <= v < 2**63),
    ("HUGEINT", lambda v: isinstance(v, int) and -2**63 <= v < 2**63),
    ("DOUBLE", lambda v: isinstance(v, float)),
    ("FLOAT", lambda v: isinstance(v, float)),
    ("DECIMAL(6,2)", lambda v: isinstance(v, decimal.Decimal) and abs(v) < 10**4),
    ("DATE", lambda v: isinstance(v, datetime.date)),        # only days that exist: no Feb 30th
    ("TIMESTAMP", lambda v: isinstance(v, datetime.datetime)),
    ("VARCHAR", _short),
    ("VARCHAR(8)", lambda v: _short(v, 8)),
    ("ENUM('red', 'green', 'blue')", lambda v: v in ("red", "green", "blue")),
    ("INTEGER[]", _ints),
    ("BOOLEAN[3]", lambda v: isinstance(v, tuple) and len(v) == 3       # DuckDB's ARRAY: a tuple
     and all(isinstance(x, bool) for x in v)),
    ("STRUCT(flag BOOLEAN, n SMALLINT, color ENUM('red', 'green'), sub STRUCT(a TINYINT))",
     lambda v: set(v) == {"flag", "n", "color", "sub"}
     and (v["sub"] is None or set(v["sub"]) == {"a"})),
    ("STRUCT(label VARCHAR, detail STRUCT(score DOUBLE, ids INTEGER[]))",
     lambda v: set(v) == {"label", "detail"} and (v["label"] is None or _short(v["label"]))
     and (v["detail"] is None or v["detail"]["ids"] is None or _ints(v["detail"]["ids"]))),
    ("STRUCT(name VARCHAR(8), year SMALLINT)[]",
     lambda v: isinstance(v, list) and all(x is None or set(x) == {"name", "year"} for x in v)),
]


@pytest.mark.parametrize("type_text, check", TYPES, ids=[t for t, _ in TYPES])
def test_every_row_has_the_type(conn, type_text, check):
    values, cur = _answers(conn, f"SELECT LLM('Answer.', note, returns := $${type_text}$$) FROM t")
    assert cur.description[0][1] == str(infersql_type(type_text))
    assert cur.stats.cast_failures == 0 and all(v is not None and check(v) for v in values)


def infersql_type(text: str):
    import duckdb
    return duckdb.sqltype(text)


def test_an_answer_cut_short_is_null_and_counted_or_an_error(conn):
    """Only an unbounded json_schema with a max_tokens too small for it can cut an answer:
    every row here is NULL, and counted; on_error := 'raise' makes it a DataError."""
    call = """LLM('Say a.', note, json_schema := '{"type": "string", "pattern": "^a+$"}', max_tokens := 2"""
    values, cur = _answers(conn, f"SELECT {call}) FROM t")
    assert values == [None] * ROWS and cur.stats.cast_failures == ROWS      # nothing lost silently
    with pytest.raises(infersql.DataError, match="is not a complete JSON document"):
        conn.execute(f"SELECT {call}, on_error := 'raise') FROM t")


def test_a_json_schema_gives_json_documents_that_conform(conn):
    """Unbounded lists and numbers in the schema get the default bounds, so every document is
    complete (strings too: tests/test_typed_budget.py)."""
    schema = {"type": "object", "required": ["id", "kind", "tags", "inner"],
              "properties": {"id": {"type": "integer"},
                             "kind": {"enum": ["a", "b"]},
                             "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}},
                             "inner": {"type": "object", "required": ["ok", "x"],
                                       "properties": {"ok": {"type": "boolean"},
                                                      "x": {"type": "number"}}}}}
    values, cur = _answers(conn, f"SELECT LLM('Describe.', note, json_schema := '{json.dumps(schema)}') FROM t")
    assert cur.description[0][1] == "JSON" and cur.stats.cast_failures == 0
    for text in values:
        doc = json.loads(text)
        assert isinstance(doc["id"], int) and doc["kind"] in ("a", "b") and len(doc["tags"]) <= 16
        assert all(_short(t, 6) for t in doc["tags"]) and isinstance(doc["inner"]["ok"], bool)
        assert isinstance(doc["inner"]["x"], (int, float))


def test_typed_calls_plan_to_the_same_rows_as_unplanned(tiny_model, conn):
    sql = ("SELECT i, LLM('Year?', note, returns := 'SMALLINT') AS y FROM t WHERE i < 40 AND "
           "LLM('Kind?', note, returns := $$ENUM('a', 'b')$$) = 'a' ORDER BY i")
    with infersql.connect(model=tiny_model, optimize=False) as naive:
        naive.execute(f"CREATE TABLE t AS SELECT i, 'row number ' || i AS note FROM range({ROWS}) t(i)")
        assert conn.execute(sql).fetchall() == naive.execute(sql).fetchall()


def test_a_schema_the_grammar_library_rejects_names_the_call(conn):
    with pytest.raises(infersql.ProgrammingError) as info:
        conn.execute("""SELECT LLM('Go.', note, json_schema := '{"type": "nosuchtype"}') FROM t""")
    assert "json_schema" in str(info.value) and "LLM('Go.'" in str(info.value)


def test_without_the_grammar_library_a_typed_call_names_the_fix(tiny_model):
    import subprocess
    import sys

    code = ("import sys; sys.modules['xgrammar'] = None; import infersql\n"
            f"c = infersql.connect(model={tiny_model!r})\n"
            "try:\n    c.execute(\"SELECT LLM('Year?', 'x', returns := 'INTEGER')\")\n"
            "except infersql.OperationalError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'infersql[typed]'" in done.stdout and "LLM('Year?'" in done.stdout


def test_llm_extract_gives_a_record_on_every_row(conn):
    values, cur = _answers(conn, "SELECT LLM_EXTRACT('Who and when?', note, "
                                 "returns := 'STRUCT(name VARCHAR(12), year SMALLINT)') FROM t")
    assert str(cur.description[0][1]) == 'STRUCT("name" VARCHAR, "year" SMALLINT)'
    assert cur.stats.cast_failures == 0                  # the field's VARCHAR(12) bounds it
    assert all(set(v) == {"name", "year"} and (v["name"] is None or
               len(v["name"].replace("\ufffd", "")) <= 12) for v in values)


def test_explain_shows_each_typed_answers_type_and_token_bound(conn):
    lines = [r[0] for r in conn.execute(
        "EXPLAIN SELECT LLM('Year?', note, returns := 'INTEGER') FROM t").fetchall()]
    assert "answer: INTEGER under its grammar, at most 12 tokens (max_tokens=12)" in \
        [line.strip() for line in lines]
