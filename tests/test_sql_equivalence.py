"""Every clause: an LLM query returns exactly what plain DuckDB returns with naive per-row UDFs
calling the same model greedily, typed calls included (the same grammar, DuckDB's JSON cast)."""
from __future__ import annotations

import pytest

import infersql
from tests.naive_udf import FIXTURE_SQL, naive_connection, naive_sql

F = "LLM_FILTER('Is this review positive?', review)"
C = "LLM_CLASSIFY('What is the mood?', ['happy', 'sad', 'tense'], review)"
L = "LLM('Summarize the review.', review, max_tokens := 4)"
T = "LLM('How many stars?', review, returns := 'TINYINT')"
X = "LLM_EXTRACT('Who is praised?', review, returns := 'STRUCT(name VARCHAR(6), good BOOLEAN)')"

CASES = {
    "select": f"SELECT id, {F} AS f, {C} AS c, {L} AS s FROM reviews ORDER BY id",
    "where": f"SELECT id FROM reviews WHERE stars >= 2 AND {F} ORDER BY id",
    "join_on": f"SELECT r.id, m.title FROM reviews r JOIN movies m ON m.id = r.movie_id AND {F} ORDER BY r.id",
    "case": f"SELECT id, CASE WHEN stars > 3 THEN {C} ELSE 'skipped' END FROM reviews ORDER BY id",
    "group_by": f"SELECT {C} AS mood, count(*) FROM reviews GROUP BY mood ORDER BY mood",
    "group_by_expression": f"SELECT movie_id, {C}, count(*) FROM reviews GROUP BY movie_id, {C} ORDER BY ALL",
    "having": f"SELECT movie_id, count(*) FROM reviews GROUP BY movie_id HAVING sum(CASE WHEN {F} THEN 1 ELSE 0 END) > 0 ORDER BY movie_id",
    "order_by": f"SELECT id FROM reviews ORDER BY {L}, id",
    "subquery": f"SELECT title FROM movies WHERE id IN (SELECT movie_id FROM reviews WHERE {F}) ORDER BY title",
    "two_fields": "SELECT r.id, LLM('Pitch this film.', m.title, r.review, max_tokens := 3) FROM reviews r JOIN movies m ON m.id = r.movie_id ORDER BY r.id",
    "raw_form": "SELECT id, LLM('Say hi to ' || title, max_tokens := 3) FROM movies ORDER BY id",
    "nested_calls": f"SELECT id, LLM('Reply to this verdict.', {F}, max_tokens := 3) FROM reviews ORDER BY id",
    "cte_union": f"WITH p AS (SELECT id FROM reviews WHERE {F}) SELECT id FROM p UNION ALL SELECT -id FROM reviews WHERE NOT {F} ORDER BY id",
    "aggregate_filter": f"SELECT count(*) FILTER (WHERE {F}), count(DISTINCT {C}) FROM reviews",
    "expression_field": "SELECT id, LLM_FILTER('Shouting?', upper(review)) FROM reviews ORDER BY id",
    "typed_select": f"SELECT id, {T}, {X} FROM reviews ORDER BY id",
    "typed_where": f"SELECT id FROM reviews WHERE {T} > 0 ORDER BY id",
    "typed_case_field": f"SELECT id, CASE WHEN stars > 3 THEN ({X}).name END FROM reviews ORDER BY id",
    "typed_group_by": f"SELECT ({X}).good AS g, count(*) FROM reviews GROUP BY g ORDER BY g",
    "typed_list": "SELECT id, LLM('Tags?', review, returns := 'VARCHAR(5)[]') FROM reviews ORDER BY id",
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
    assert conn.execute(CASES[clause]).fetchall() == naive.execute(naive_sql(CASES[clause])).fetchall()


def test_null_field_is_serialized_as_null(conns):
    conn, naive = conns
    sql = f"SELECT {L} FROM reviews WHERE id = 6"
    ours = conn.execute(sql).fetchall()
    assert ours == naive.execute(naive_sql(sql)).fetchall()
    assert ours[0][0] is not None


def test_plain_sql_is_untouched(conns):
    conn, _ = conns
    rows = conn.execute("SELECT list_sort([3, 1, 2]), 'LLM(' || 'x'").fetchall()
    assert rows == [([1, 2, 3], "LLM(x")]
