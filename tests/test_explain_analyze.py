"""EXPLAIN ANALYZE says how many rows each LLM filter let through, beside the estimate, so the
selectivity estimate can be checked; and it explains evictions, which count earlier
statements' cached blocks too."""
from __future__ import annotations

import json

import infersql
from optimizer.explain import EVICTIONS_NOTE


def _operators(conn, sql: str) -> list[dict]:
    doc = json.loads(conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).fetchall()[0][0])
    return [op for scope in doc["scopes"] for op in scope["operators"]], doc


def test_filters_show_the_rows_they_passed_beside_the_estimate(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        conn.execute("CREATE TABLE t AS SELECT 'note ' || i AS note FROM range(40) t(i)")
        sql = "SELECT note FROM t WHERE NOT LLM_FILTER('Is it urgent?', note)"
        ops, _ = _operators(conn, sql)
        passed = len(conn.execute(sql).fetchall())          # every note is distinct
        assert ops[0]["actual"]["rows"] == 40 and ops[0]["actual"]["passed"] == passed
        assert ops[0]["estimate"]["passed"] == round(40 * ops[0]["selectivity"]["value"])
        text = [r[0] for r in conn.execute("EXPLAIN ANALYZE " + sql).fetchall()]
        assert any(line.strip().startswith("actual:") and f"passed={passed} " in line for line in text)


def test_evictions_are_explained(tiny_model):
    with infersql.connect(model=tiny_model, kv_cache_bytes=1 << 18) as conn:   # 32 blocks
        conn.execute("CREATE TABLE t AS SELECT repeat('long text ', 20) || i AS note FROM range(60) t(i)")
        _, doc = _operators(conn, "SELECT LLM('Say it.', note, max_tokens := 2) FROM t")
        assert doc["actual_total"]["evictions"] > 0 and doc["notes"] == [EVICTIONS_NOTE]
        text = [r[0] for r in conn.execute("EXPLAIN ANALYZE SELECT LLM('Say it again.', note, "
                                           "max_tokens := 2) FROM t").fetchall()]
        assert text[-1] == "Note: " + EVICTIONS_NOTE


def test_explain_names_the_model_in_use(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        lines = [r[0] for r in conn.execute("EXPLAIN SELECT LLM('Hi', 'there')").fetchall()]
        assert lines[1] == f"  model: {tiny_model}"
        _, doc = _operators(conn, "SELECT LLM('Hi', 'there')")
        assert doc["engine"]["model"] == tiny_model


def test_classify_estimates_its_labels_tokens_as_the_engine_counts_them(tiny_model):
    """Multi-token labels: each label's tokens after its first are decoded by a child that
    re-reads the prompt; the estimate simulates those children, so its tokens equal the run's."""
    with infersql.connect(model=tiny_model) as conn:
        conn.execute("CREATE TABLE t AS SELECT 'review number ' || i AS review FROM range(12) t(i)")
        sql = ("SELECT LLM_CLASSIFY('What does the reviewer think?', ['recommends it strongly', "
               "'does not recommend it', 'undecided about it'], review) FROM t")
        ops, _ = _operators(conn, sql)
        est, act = ops[0]["estimate"], ops[0]["actual"]
        assert act["decoded_tokens"] > 0                  # the labels are several tokens long
        for key in ("prompt_tokens", "cached_tokens"):
            assert est[key] == act[key]
        assert est["decode_tokens"] == act["decoded_tokens"]
