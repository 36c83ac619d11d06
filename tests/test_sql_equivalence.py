"""Every clause: an LLM query returns exactly what plain DuckDB returns with naive per-row UDFs
calling the same model greedily."""
from __future__ import annotations

import pytest

import infersql
from tests.naive_udf import FIXTURE_SQL, naive_connection

F = "LLM_FILTER('Is this review positive?', review)"
NF = "naive_filter('Is this review positive?', 'review', review)"
C = "LLM_CLASSIFY('What is the mood?', ['happy', 'sad', 'tense'], review)"
NC = "naive_classify('What is the mood?', ['happy', 'sad', 'tense'], 'review', review)"
L = "LLM('Summarize the review.', review, max_tokens := 4)"
NL = "naive_llm('Summarize the review.', 'review', review, 4)"

CASES = {
    "select": (f"SELECT id, {F} AS f, {C} AS c, {L} AS s FROM reviews ORDER BY id",
               f"SELECT id, {NF} AS f, {NC} AS c, {NL} AS s FROM reviews ORDER BY id"),
    "where": (f"SELECT id FROM reviews WHERE stars >= 2 AND {F} ORDER BY id",
              f"SELECT id FROM reviews WHERE stars >= 2 AND {NF} ORDER BY id"),
    "join_on": (f"SELECT r.id, m.title FROM reviews r JOIN movies m ON m.id = r.movie_id AND {F} ORDER BY r.id",
                f"SELECT r.id, m.title FROM reviews r JOIN movies m ON m.id = r.movie_id AND {NF} ORDER BY r.id"),
    "case": (f"SELECT id, CASE WHEN stars > 3 THEN {C} ELSE 'skipped' END FROM reviews ORDER BY id",
             f"SELECT id, CASE WHEN stars > 3 THEN {NC} ELSE 'skipped' END FROM reviews ORDER BY id"),
    "group_by": (f"SELECT {C} AS mood, count(*) FROM reviews GROUP BY mood ORDER BY mood",
                 f"SELECT {NC} AS mood, count(*) FROM reviews GROUP BY mood ORDER BY mood"),
    "having": (f"SELECT movie_id, count(*) FROM reviews GROUP BY movie_id HAVING sum(CASE WHEN {F} THEN 1 ELSE 0 END) > 0 ORDER BY movie_id",
               f"SELECT movie_id, count(*) FROM reviews GROUP BY movie_id HAVING sum(CASE WHEN {NF} THEN 1 ELSE 0 END) > 0 ORDER BY movie_id"),
    "order_by": (f"SELECT id FROM reviews ORDER BY {L}, id",
                 f"SELECT id FROM reviews ORDER BY {NL}, id"),
    "subquery": (f"SELECT title FROM movies WHERE id IN (SELECT movie_id FROM reviews WHERE {F}) ORDER BY title",
                 f"SELECT title FROM movies WHERE id IN (SELECT movie_id FROM reviews WHERE {NF}) ORDER BY title"),
}


@pytest.fixture(scope="module")
def conns(tiny_model):
    conn = infersql.connect(model=tiny_model, kv_cache_bytes=8 << 20)
    conn.execute(FIXTURE_SQL)
    naive = naive_connection(tiny_model)
    naive.execute(FIXTURE_SQL)
    yield conn, naive
    conn.close()


@pytest.mark.parametrize("clause", list(CASES))
def test_clause_matches_naive(conns, clause):
    conn, naive = conns
    ours, reference = CASES[clause]
    assert conn.execute(ours).fetchall() == naive.execute(reference).fetchall()


def test_two_fields_and_raw_form(conns, tiny_model):
    conn, naive = conns
    from executor.engine import Engine, EngineConfig, Request

    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=8 << 20))
    got = conn.execute(
        "SELECT r.id, LLM('Pitch this film.', m.title, r.review, max_tokens := 3), "
        "LLM('Say hi to ' || m.title, max_tokens := 3) FROM reviews r JOIN movies m "
        "ON m.id = r.movie_id ORDER BY r.id").fetchall()
    titles = dict(conn.execute("SELECT r.id, m.title FROM reviews r JOIN movies m ON m.id = r.movie_id").fetchall())
    want = naive.execute(
        "SELECT r.id, naive_llm2('Pitch this film.', 'title', m.title, 'review', r.review, 3) "
        "FROM reviews r JOIN movies m ON m.id = r.movie_id ORDER BY r.id").fetchall()
    assert [(i, a) for i, a, _ in got] == want
    for i, _, raw in got:   # the raw form sends the text as it is, with no field lines
        assert raw == engine.generate([Request(prompt="Say hi to " + titles[i], max_tokens=3, chat=True)])[0].text


def test_null_field_is_serialized_as_null(conns):
    conn, naive = conns
    ours = conn.execute(f"SELECT {L} FROM reviews WHERE id = 6").fetchall()
    assert ours == naive.execute(f"SELECT {NL} FROM reviews WHERE id = 6").fetchall()
    assert ours[0][0] is not None


def test_plain_sql_is_untouched(conns):
    conn, _ = conns
    rows = conn.execute("SELECT list_sort([3, 1, 2]), 'LLM(' || 'x'").fetchall()
    assert rows == [([1, 2, 3], "LLM(x")]
