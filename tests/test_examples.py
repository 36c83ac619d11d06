"""Every file in sql_examples/ runs, and each of its queries returns what its naive per-row
translation returns in plain DuckDB."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import infersql
from optimizer import mentions_llm
from tests.naive_udf import naive_connection, naive_sql

EXAMPLES = sorted((Path(__file__).parent.parent / "sql_examples").glob("*.sql"))


def test_there_are_at_least_six_examples():
    assert len(EXAMPLES) >= 6
    for path in EXAMPLES:
        assert path.read_text().startswith("--"), f"{path.name} needs a comment header"


@pytest.fixture(scope="module")
def naive(tiny_model):
    return naive_connection(tiny_model)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_matches_naive(path, tiny_model, naive):
    statements = [s.query for s in duckdb.extract_statements(path.read_text())]
    compared = typed = 0
    with infersql.connect(model=tiny_model) as conn:
        ref = naive.cursor()
        for sql in statements:
            rows = conn.execute(sql)
            got = rows.fetchall() if rows.description else None
            code = "\n".join(l for l in sql.splitlines() if not l.lstrip().startswith("--"))
            if "infersql_" in code:         # the catalog exists only on our side
                continue
            if code.lstrip().upper().startswith(("EXPLAIN", "SELECT ID, PRODUCT FROM LISTINGS WHERE")):
                continue                    # a plan, or a LIMIT without ORDER BY: any rows do
            if "returns :=" in code:        # typed answers have their own oracles: the engine's
                typed += 1                  # against HF generate with the same grammar, and
                continue                    # planned against unplanned (test_typed_outputs.py)

            ref.execute(naive_sql(sql) if mentions_llm(sql) else sql)
            if got is not None:
                assert got == ref.fetchall(), sql
                compared += 1
    assert compared >= 1 or typed >= 1


def test_result_cache_example_reruns_without_inference(tiny_model):
    text = (Path(__file__).parent.parent / "sql_examples" / "07_result_cache.sql").read_text()
    statements = [s.query for s in duckdb.extract_statements(text)]
    with infersql.connect(model=tiny_model) as conn:
        create, insert, select, select_again, count = statements
        conn.execute(create)
        conn.execute(insert)
        first = conn.execute(select).fetchall()
        assert conn.engine.stats.requests == 3          # notes 1 and 3 are one prompt, asked once
        assert conn.execute(select_again).fetchall() == first
        assert conn.engine.stats.requests == 3
        assert conn.execute(count).fetchall() == [(3,)]
