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
    ("SELECT LLM('Q', review, max_tokens := 'many') FROM r", ["max_tokens", "integer"]),
    ("SELECT LLM('Q', review, max_tokens := 0) FROM r", ["max_tokens", "at least 1"]),
    ("SELECT LLM('Q', review, temperature := -1) FROM r", ["temperature"]),
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


def test_model_that_fails_to_load(tiny_model, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with infersql.connect() as c:
        c.register_model("broken", str(broken))
        c.register_model("good", tiny_model)
        with pytest.raises(infersql.OperationalError, match="failed to load"):
            c.execute("SELECT LLM('Q', 'x', model := 'broken')").fetchall()
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


def test_table_statistics(conn):
    stats = conn.analyze("r")
    by_col = {s[1]: s for s in stats}
    assert by_col["id"][2] == 2 and by_col["id"][3] == 2
    assert by_col["review"][4] > 0
    assert conn.catalog.table_stats("r")[0][0] == "id"
