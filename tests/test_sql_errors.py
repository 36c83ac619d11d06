"""Bad LLM calls: a clear PEP 249 error naming the call (and row), and the connection goes on."""
from __future__ import annotations

import json

import pytest

import infersql


@pytest.fixture(scope="module")
def conn(tiny_model):
    c = infersql.connect(model=tiny_model, kv_cache_bytes=4 << 20)
    c.execute("CREATE TABLE r AS SELECT * FROM (VALUES (1, 'short'), (2, 'x')) t(id, review)")
    yield c
    c.close()


@pytest.mark.parametrize("sql, words", [
    ("SELECT LLM('Q', review, colour := 'red') FROM r", ["unknown option 'colour'", "LLM('Q'"]),
    ("SELECT LLM_CLASSIFY('Q', review, labels := ['a', 'b']) FROM r",
     ["unknown option 'labels'", "LLM_CLASSIFY's second argument"]),
    ("SELECT LLM('Q', review, max_tokens := 'many') FROM r", ["max_tokens", "integer"]),
    ("SELECT LLM('Q', review, max_tokens := 0) FROM r", ["max_tokens", "at least 1"]),
    ("SELECT LLM('Q', review, temperature := -1) FROM r", ["temperature"]),
    ("SELECT LLM('Q', review, on_overflow := 'drop') FROM r", ["on_overflow", "'truncate'"]),
    ("SELECT LLM(review, review) FROM r", ["instruction", "string literal"]),
    ("SELECT LLM_CLASSIFY('Mood?', review) FROM r", ["LLM_CLASSIFY", "labels"]),
    ("SELECT LLM_CLASSIFY('Mood?', [1, 2], review) FROM r", ["label", "string literal"]),
    ("SELECT LLM_CLASSIFY('Mood?', ['a', 'a'], review) FROM r", ["distinct"]),
    ("SELECT LLM() FROM r", ["needs a prompt"]),
    ("SELECT LLM('Q', review, model := 'nope') FROM r", ["unknown model 'nope'", "LLM('Q'"]),
])
def test_programming_errors(conn, sql, words):
    with pytest.raises(infersql.ProgrammingError) as info:
        conn.execute(sql)
    for w in words:
        assert w in str(info.value)
    assert conn.execute("SELECT count(*) FROM r").fetchone() == (2,)


def test_prompt_over_context_names_the_row(conn):
    conn.execute("CREATE TABLE long AS SELECT * FROM (VALUES (1, 'ok'), (2, repeat('word ', 3000))) t(id, body)")
    with pytest.raises(infersql.OperationalError) as info:
        conn.execute("SELECT id, LLM('Summarize', body) FROM long").fetchall()
    message = str(info.value)
    assert "LLM('Summarize', body)" in message and "body='word word" in message
    assert "context" in message
    assert conn.execute("SELECT LLM_FILTER('Ok?', review) IS NOT NULL FROM r WHERE id = 1").fetchall() == [(True,)]


def test_on_overflow_truncate_fits_long_rows_and_leaves_short_ones(conn):
    conn.execute("CREATE OR REPLACE TABLE long2 AS SELECT * FROM (VALUES (1, 'ok', 'ok'), "
                 "(2, repeat('word ', 3000), 'ok'), (3, 'ok', repeat('raw ', 3000))) t(id, body, note)")
    summary = "LLM('Summarize', body, note, max_tokens := 3{})"
    plain = conn.execute(f"SELECT {summary.format('')} FROM long2 WHERE id = 1").fetchall()
    rows = conn.execute(f"SELECT id, {summary.format(', on_overflow := :t')}, "
                        "LLM_FILTER('Fine?', body, on_overflow := :t), "
                        "LLM(note, max_tokens := 2, on_overflow := :t) FROM long2 ORDER BY id"
                        .replace(":t", "'truncate'")).fetchall()
    assert rows[0][1] == plain[0][0]                 # a row that fits is left as it is
    assert all(isinstance(r[1], str) and isinstance(r[3], str) for r in rows)
    assert rows[1][2] in (True, False)
    (prompt,), = conn.execute("SELECT prompt FROM infersql_catalog.llm_cache "
                              "WHERE prompt LIKE 'Summarize%word%'").fetchall()
    assert prompt.startswith("Summarize\nbody: word word") and prompt.endswith("\nnote: ok\n")
    engine = conn.engine                             # cached under the shortened prompt
    assert len(engine.tokenizer(prompt).input_ids) <= engine.max_model_len - 3


def test_model_that_fails_to_load(tiny_model, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with infersql.connect() as c:
        c.register_model("broken", str(broken))
        c.register_model("good", tiny_model)
        with pytest.raises(infersql.OperationalError, match="failed to load") as info:
            c.execute("SELECT LLM('Q', 'x', model := 'broken')").fetchall()
        assert "LLM('Q', 'x', model := 'broken')" in str(info.value)
        assert c.execute("SELECT LLM_FILTER('Q', 'x', model := 'good') IS NOT NULL").fetchall() == [(True,)]


def test_registered_models_and_default_persist(tiny_model, tmp_path):
    db = str(tmp_path / "m.duckdb")
    with infersql.connect(db) as c:
        c.register_model("tiny", tiny_model, default=True, kv_cache_bytes=2 << 20)
    with infersql.connect(db) as c:
        assert [m.name for m in c.catalog.models()] == ["tiny"]
        c.execute("SELECT LLM('Hello', 'there', max_tokens := 2)").fetchall()
        assert c.engine.config.model == tiny_model
        assert c.engine.config.kv_cache_bytes == 2 << 20



@pytest.mark.parametrize("sql, where", [
    ("CREATE VIEW v AS SELECT LLM_FILTER('Ok?', review) AS f FROM r", "view"),
    ("CREATE MACRO ok(x) AS LLM_FILTER('Ok?', x)", "macro"),
    ("PREPARE p AS SELECT LLM_FILTER('Ok?', review) FROM r WHERE id = ?", "PREPARE"),
])
def test_calls_that_cannot_outlive_their_statement_are_not_supported(conn, sql, where):
    with pytest.raises(infersql.NotSupportedError, match=where):
        conn.execute(sql)
    assert conn.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'v'").fetchone() == (0,)


def test_explain_shows_the_plan_without_inference(conn):
    before = conn.engine.stats.requests
    plan = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN SELECT LLM_FILTER('Ok?', review) FROM r").fetchall())
    assert "LLM_FILTER('Ok?', review)" in plan and "__infersql" not in plan.lower()
    assert conn.engine.stats.requests == before


def test_duckdb_errors_quote_no_rewritten_text(tiny_model, caplog):
    """A DuckDB error about a statement with LLM calls quoted the text InferSQL ran (``CAST(review
    AS TEXT)) AS "LLM_FILTER(...)"``, or a driver query), which the user never wrote."""
    with infersql.connect(model=tiny_model) as conn:
        conn.execute("CREATE TABLE t AS SELECT 'x' AS review, 1 AS id")
        for sql in ("SELECT LLM_FILTER('Good?', review) FROM t LIMIT 'a'",
                    "SELECT LLM_FILTER('Good?', review) FROM t WHERE id = 'x'",
                    "SELECT LLM_FILTER('Good?', review) FROM nosuch"):
            with pytest.raises(infersql.Error) as info:
                conn.execute(sql).fetchall()
            text = str(info.value)
            assert "LINE " not in text and "CAST(" not in text and "__infersql" not in text
        with pytest.raises(infersql.NotSupportedError):
            conn.execute("PREPARE p AS SELECT LLM_FILTER('Good?', 'x')")
    assert not [r for r in caplog.records if "unsupported syntax" in r.getMessage()]  # no sqlglot
                                                                                   # warning first
