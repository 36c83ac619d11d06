"""Planning costs what the work costs, not what the candidates cost: a LIMIT over 32,640
candidate pairs tokenizes the prompts its waves send, and EXPLAIN ANALYZE accounts for the
statement's whole wall time in four parts. (The timings themselves are measured side by side
in bench/planning_overhead_bench.py.)"""
from __future__ import annotations

import json

import pytest

import infersql
from executor.llm_call import LLMCall
from tests.naive_udf import naive_connection, naive_sql
from tests.optimizer_fixture import forget, movies_db_sql, pair_join_sql, pair_reviews_sql

AGREE = "LLM_FILTER('Do the two reviews agree?', a.review, b.review)"


@pytest.fixture(scope="module")
def pairs(tiny_model):
    """256 reviews of one movie (32,640 pairs), and the filter over a pair that the tiny
    random model lets through more often (its answers are noise, but fixed ones)."""
    conn = infersql.connect(model=tiny_model, kv_cache_bytes=8 << 20)
    conn.execute(pair_reviews_sql())
    rate = conn.execute(f"SELECT avg(({AGREE})::INT) FROM r a JOIN r b ON a.id < b.id "
                        "WHERE a.id = 0 AND b.id <= 40").fetchone()[0]
    yield conn, AGREE if rate >= 0.5 else f"NOT {AGREE}"
    conn.close()


def _counting_tokenize(conn, monkeypatch) -> set[str]:
    """The prompts the runtime tokenizes from now on (the real tokenizer still runs)."""
    seen: set[str] = set()
    tokenize = conn.runtime.tokenize

    def counting(call, prompts):
        seen.update(prompts)
        return tokenize(call, prompts)

    monkeypatch.setattr(conn.runtime, "tokenize", counting)
    return seen


def test_a_limit_over_pairs_tokenizes_what_its_waves_send(pairs, tiny_model, monkeypatch):
    conn, predicate = pairs
    forget(conn)
    tokenized = _counting_tokenize(conn, monkeypatch)
    cur = conn.cursor()
    rows = cur.execute(pair_join_sql(predicate)).fetchall()
    assert len(rows) == 10
    sent = cur.stats.llm_calls
    # Each wave's prompts, tokenized once when it is sent; the cancelled tail of the last
    # wave is tokenized but not answered. Before, all 32,640 candidates were tokenized.
    assert sent <= len(tokenized) <= sent + 64, (sent, len(tokenized))
    pairs_sql = " OR ".join(f"(a.id = {x} AND b.id = {y})" for x, y in rows)
    oracle = naive_sql(f"SELECT bool_and({predicate}) FROM r a JOIN r b ON a.id < b.id "
                       f"WHERE {pairs_sql}")
    naive = naive_connection(tiny_model)
    naive.execute(pair_reviews_sql())
    assert naive.execute(oracle).fetchone()[0] is True       # every pair returned passes

    rerun = conn.cursor()
    assert len(rerun.execute(pair_join_sql(predicate)).fetchall()) == 10
    assert rerun.stats.llm_calls == 0 and rerun.stats.cache_hits >= 10   # waves hit the cache


def test_a_streamed_limit_reaches_rows_in_their_prompts_text_order(tiny_model):
    """The waves reach the rows in their prompts' text order (each movie's info first here),
    so a LIMIT's requests share the movie's long info, where the table's own (shuffled) order
    would mix movies: every prompt it answered is among the first it reached in that order."""
    watch = "LLM_FILTER('Would you watch it?', info, review)"
    with infersql.connect(model=tiny_model) as conn:
        conn.execute(movies_db_sql())
        rate = conn.execute(f"SELECT avg(({watch})::INT) FROM r WHERE id < 12").fetchone()[0]
        predicate = watch if rate >= 0.5 else f"NOT {watch}"
        forget(conn)
        doc = json.loads(conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM r "
                                      f"WHERE {predicate} LIMIT 3").fetchone()[0])
        reached = doc["scopes"][0]["operators"][0]["actual"]["distinct"]
        answered = {p for (p,) in conn.execute("SELECT prompt FROM infersql_catalog.llm_cache")
                    .fetchall()}
        call = LLMCall("filter", "", "Would you watch it?", ("info", "review"))
        in_text_order = sorted(call.render(row) for row in
                               conn.execute("SELECT info, review FROM r").fetchall())
        assert answered and answered <= set(in_text_order[:reached])
        assert reached <= 24 < len(in_text_order)          # a wave or two, not the table


def test_explain_analyze_accounts_for_the_statement_in_four_parts(pairs):
    conn, predicate = pairs
    forget(conn)
    doc = json.loads(conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + pair_join_sql(predicate))
                     .fetchone()[0])
    t = doc["time_seconds"]
    parts = [t["planning"], t["driver_queries"], t["inference"], t["final_pass"]]
    assert min(parts) >= 0 and 0 <= t["requests"] <= t["planning"]
    assert sum(parts) == pytest.approx(t["total"], abs=1e-3)
    assert t["inference"] == pytest.approx(doc["actual_total"]["seconds"], abs=1e-3)
    assert t["inference"] > 0 and t["driver_queries"] > 0 and t["final_pass"] > 0

    text = [r[0] for r in conn.execute("EXPLAIN ANALYZE " + pair_join_sql(predicate)).fetchall()]
    line = next(x for x in text if x.startswith("Time: "))
    assert all(f" {name} " in line for name in ("planning", "driver queries", "inference",
                                                "final pass"))


def test_an_unplanned_statement_is_all_final_pass_and_inference(tiny_model):
    with infersql.connect(model=tiny_model, optimize=False) as conn:
        conn.execute("CREATE TABLE t AS SELECT 'note ' || i AS note FROM range(20) t(i)")
        doc = json.loads(conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT note FROM t "
                                      "WHERE LLM_FILTER('Urgent?', note)").fetchone()[0])
        t = doc["time_seconds"]
        assert t["driver_queries"] == 0 and t["requests"] == 0
        assert t["inference"] == pytest.approx(doc["actual_total"]["seconds"], abs=1e-3)
        assert t["inference"] > 0
        assert t["planning"] + t["final_pass"] + t["inference"] == pytest.approx(t["total"], abs=1e-3)
