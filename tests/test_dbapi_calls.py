"""Calls and connections as people write them: bound parameters for instructions, labels and
options; dollar-quoted and E'' strings; options checked (given twice, seed range, temperature
where nothing is sampled); engine options checked at connect(); a model folder without a
tokenizer named at load; the catalog in a schema of its own; an empty prompt gives NULL."""
from __future__ import annotations

import shutil

import duckdb
import pytest

import infersql
from catalog import SCHEMA
from optimizer.parameters import inline_call_parameters


@pytest.fixture(scope="module")
def conn(tiny_model):
    c = infersql.connect(model=tiny_model)
    c.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'apple'), (2, 'stone'), (3, 'pear')) v(i, body)")
    yield c
    c.close()


def test_instruction_labels_and_options_as_parameters(conn):
    question = "Is it a fruit? It's 'quoted'; and has a ? mark"
    got = conn.execute("SELECT i, LLM_FILTER(?, body) FROM t WHERE i > ? ORDER BY i",
                       [question, 1]).fetchall()
    quoted = question.replace("'", "''")
    want = conn.execute(f"SELECT i, LLM_FILTER('{quoted}', body) FROM t WHERE i > 1 ORDER BY i").fetchall()
    assert got == want and [r[0] for r in got] == [2, 3]
    labels = conn.execute("SELECT LLM_CLASSIFY(?, [?, ?], body) FROM t ORDER BY i",
                          ["Kind?", "fruit", "rock"]).fetchall()
    as_list = conn.execute("SELECT LLM_CLASSIFY(?, ?, body, max_tokens := ?) FROM t ORDER BY i",
                           ["Kind?", ["fruit", "rock"], 4]).fetchall()
    literal = conn.execute("SELECT LLM_CLASSIFY('Kind?', ['fruit', 'rock'], body) FROM t ORDER BY i").fetchall()
    assert labels == as_list == literal


def test_a_raw_prompt_parameter_stays_a_value(conn):
    got = conn.execute("SELECT LLM(?, max_tokens := 3)", ["Say hi"]).fetchall()
    assert got == conn.execute("SELECT LLM('Say hi', max_tokens := 3)").fetchall()


def test_inline_only_touches_call_constants():
    sql, rest = inline_call_parameters(
        "SELECT '?', LLM(?, x, seed := ?), ? FROM t WHERE y = ? -- ?", ["Q", 7, "a", 2])
    assert sql == "SELECT '?', LLM('Q', x, seed := 7), ? FROM t WHERE y = ? -- ?"
    assert rest == ["a", 2]
    assert inline_call_parameters("SELECT LLM(?, x)", ["a", "b"]) == ("SELECT LLM(?, x)", ["a", "b"])
    with pytest.raises(Exception, match="must be a string, number or list"):
        inline_call_parameters("SELECT LLM(?, x)", [object()])


def test_dollar_quoted_and_escape_strings(conn):
    plain = conn.execute("SELECT LLM('Say it''s\nfine', body, max_tokens := 3) FROM t ORDER BY i").fetchall()
    assert conn.execute("SELECT LLM($$Say it's\nfine$$, body, max_tokens := 3) FROM t ORDER BY i").fetchall() == plain
    assert conn.execute("SELECT LLM($q$Say it's\nfine$q$, body, max_tokens := 3) FROM t ORDER BY i").fetchall() == plain
    assert conn.execute("SELECT LLM(E'Say it\\'s\\nfine', body, max_tokens := 3) FROM t ORDER BY i").fetchall() == plain


@pytest.mark.parametrize("call, message", [
    ("LLM('Q', body, max_tokens := 2, max_tokens := 3)", "given twice"),
    ("LLM('Q', body, seed := 18446744073709551615, temperature := 1)", "seed := must be between"),
    ("LLM('Q', body, seed := -1, temperature := 1)", "seed := must be between"),
    ("LLM_FILTER('Q', body, temperature := 0.7)", "takes no temperature"),
    ("LLM_CLASSIFY('Q', ['a', 'b'], body, temperature := 0.7)", "takes no temperature"),
])
def test_bad_options_are_programming_errors(conn, call, message):
    with pytest.raises(infersql.ProgrammingError, match=message):
        conn.execute(f"SELECT {call} FROM t")


def test_largest_seed_is_accepted(conn):
    rows = conn.execute("SELECT LLM('Q', body, seed := 9223372036854775807, temperature := 1, "
                        "max_tokens := 2) FROM t").fetchall()
    assert len(rows) == 3


def test_empty_raw_prompt_is_null(conn):
    rows = conn.execute("SELECT p, LLM(p, max_tokens := 2) FROM (VALUES (''), (NULL), ('Hi')) v(p) "
                        "ORDER BY p NULLS FIRST").fetchall()
    assert rows[0][1] is None and rows[1] == ("", None) and isinstance(rows[2][1], str)


@pytest.mark.parametrize("options, message", [
    ({"kv_cache_bytes": 0}, "kv_cache_bytes must be a positive integer"),
    ({"kv_cache_bytes": "abc"}, "kv_cache_bytes must be a positive integer"),
    ({"dtype": "float8"}, "dtype"),
    ({"nonsense": 1}, "unknown engine option 'nonsense'"),
])
def test_engine_options_are_checked_at_connect(options, message):
    with pytest.raises(infersql.ProgrammingError, match=message):
        infersql.connect(**options)
    with infersql.connect() as conn, pytest.raises(infersql.ProgrammingError, match=message):
        conn.register_model("m", ".", **options)


def test_model_folder_without_tokenizer_says_so(tiny_model, tmp_path):
    folder = tmp_path / "no-tokenizer"
    shutil.copytree(tiny_model, folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    with infersql.connect(model=str(folder)) as conn:
        with pytest.raises(infersql.OperationalError, match="no tokenizer files"):
            conn.execute("SELECT LLM('Q', 'x')").fetchall()


def test_catalog_lives_in_its_own_schema(conn):
    conn.execute("SELECT LLM('Catalog?', body, max_tokens := 2) FROM t").fetchall()
    assert conn.execute("SHOW TABLES").fetchall() == [("t",)]
    tables = {r[0] for r in conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [SCHEMA]).fetchall()}
    assert {"models", "llm_cache", "table_stats"} <= tables
    assert conn.execute(f"SELECT count(*) > 0 FROM {SCHEMA}.llm_cache").fetchone() == (True,)


def test_catalog_of_an_older_database_moves_into_the_schema(tmp_path, tiny_model):
    path = str(tmp_path / "old.duckdb")
    with duckdb.connect(path) as con:               # the layout before the schema
        con.execute("CREATE TABLE infersql_llm_cache (model VARCHAR, prompt VARCHAR, "
                    "options VARCHAR, result VARCHAR, created TIMESTAMP, "
                    "PRIMARY KEY (model, prompt, options))")
        con.execute("INSERT INTO infersql_llm_cache VALUES ('m', 'p', 'o', 'r', now())")
    with infersql.connect(path) as conn:
        assert conn.catalog.cached("m", "o", ["p"]) == {"p": "r"}
        assert conn.execute("SHOW TABLES").fetchall() == []
