"""EXPLAIN and EXPLAIN ANALYZE take ``?`` parameters wherever the statement itself does (an
LLM call's instruction, labels and options, and any other value), and plan exactly what the
same statement with the values written in plans."""
from __future__ import annotations

import re

import pytest

import infersql


@pytest.fixture(scope="module")
def conn(tiny_model):
    c = infersql.connect(model=tiny_model)
    c.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'I love it'), (2, 'Awful'), "
              "(3, 'Fine')) v(id, review)")
    yield c
    c.close()


def _plan(conn, sql: str, parameters=None) -> list[str]:
    """The plan's lines, without the figures that vary from run to run (times)."""
    rows = conn.execute(sql, parameters).fetchall()
    return [re.sub(r"seconds=[0-9.]+|T\*=[0-9.]+ s", "", r[0]) for r in rows]


@pytest.mark.parametrize("with_marks, values, literal", [
    ("SELECT LLM_FILTER(?, review) FROM t", ["Good?"],
     "SELECT LLM_FILTER('Good?', review) FROM t"),
    ("SELECT LLM('Sum', review, max_tokens := ?) FROM t", [3],
     "SELECT LLM('Sum', review, max_tokens := 3) FROM t"),
    ("SELECT LLM_CLASSIFY('Tone?', ?, review) FROM t", [["warm", "cold"]],
     "SELECT LLM_CLASSIFY('Tone?', ['warm', 'cold'], review) FROM t"),
    ("SELECT review FROM t WHERE 1 < ? AND LLM_FILTER('Good?', review)", [2],
     "SELECT review FROM t WHERE 1 < 2 AND LLM_FILTER('Good?', review)"),
    ("SELECT review FROM t WHERE id < ? AND LLM_FILTER(?, review)", [3, "Nice?"],
     "SELECT review FROM t WHERE id < 3 AND LLM_FILTER('Nice?', review)"),
])
def test_explain_with_parameters_plans_what_the_literal_statement_plans(conn, with_marks, values,
                                                                        literal):
    planned = _plan(conn, "EXPLAIN " + with_marks, values)
    assert planned == _plan(conn, "EXPLAIN " + literal)
    assert "lazy call" in planned[0] and "0 lazy calls" in planned[0]     # nothing left lazy
    assert _plan(conn, "EXPLAIN (FORMAT JSON) " + with_marks, values) == \
        _plan(conn, "EXPLAIN (FORMAT JSON) " + literal)


def test_explain_analyze_with_parameters_runs_the_planned_statement(conn):
    conn.execute("DELETE FROM infersql_catalog.llm_cache")
    cur = conn.cursor()
    lines = _plan(cur, "EXPLAIN ANALYZE SELECT review FROM t WHERE id < ? AND LLM_FILTER(?, review)",
                  [3, "Is it kind?"])
    assert "1 LLM operator, 0 lazy calls" in lines[0]
    assert cur.stats.llm_calls == 2 and cur.stats.lazy_evaluations == 0   # ids 1 and 2 only
    cur.execute("SELECT review FROM t WHERE id < 3 AND LLM_FILTER('Is it kind?', review)").fetchall()
    assert cur.stats.llm_calls == 0 and cur.stats.cache_hits == 2    # ANALYZE's answers, kept
