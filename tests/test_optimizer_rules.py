"""What each rule buys, measured by the engine's own counters: minimal inference, a LIMIT that
stops early, predicate order by rank, prefix sharing at a small KV budget, and EXPLAIN's
estimates against EXPLAIN ANALYZE's actuals."""
from __future__ import annotations

import json

import pytest

import infersql
from executor.engine.geometry import bytes_per_block, read_geometry
from executor.engine.requests_prep import encode_prompt
from executor.llm_call import LLMCall
from executor.field_orders import FieldOrders
from executor.prefix_sharing import hit_rate
from tests.optimizer_fixture import fixture_sql, forget, movies_db_sql

F = "LLM_FILTER('Is this review positive?', review)"
L = "LLM('Summarize the review.', review, max_tokens := 3)"


@pytest.fixture(scope="module")
def conn(tiny_model):
    c = infersql.connect(model=tiny_model, kv_cache_bytes=8 << 20)
    c.execute(fixture_sql())
    yield c
    c.close()


def _distinct_reviews(conn, where: str) -> int:
    return conn.execute(f"SELECT count(DISTINCT coalesce(review, '<null>')) FROM reviews "
                        f"WHERE {where}").fetchone()[0]


def test_inferences_equal_the_distinct_inputs_the_result_needs(conn):
    forget(conn)
    cur = conn.cursor()
    cur.execute(f"SELECT id FROM reviews WHERE stars >= 3 AND {F}").fetchall()
    assert cur.stats.llm_calls == _distinct_reviews(conn, "stars >= 3")

    forget(conn)
    passing = [r[0] for r in cur.execute(f"SELECT id FROM reviews WHERE {F}").fetchall()]
    forget(conn)
    cur.execute(f"SELECT id, {L} FROM reviews WHERE {F}").fetchall()
    ids = ", ".join(map(str, passing)) or "NULL"
    assert cur.stats.llm_calls == _distinct_reviews(conn, "true") + _distinct_reviews(conn, f"id IN ({ids})")

    forget(conn)
    cur.execute(f"SELECT id, {L} FROM reviews ORDER BY stars DESC, id LIMIT 4").fetchall()
    top = "id IN (SELECT id FROM reviews ORDER BY stars DESC, id LIMIT 4)"
    assert cur.stats.llm_calls == _distinct_reviews(conn, top)


def test_a_rerun_infers_nothing_and_reads_the_cache(conn):
    forget(conn)
    cur = conn.cursor()
    sql = f"SELECT id, {L} FROM reviews WHERE {F} ORDER BY id"
    first = cur.execute(sql).fetchall()
    assert cur.stats.llm_calls > 0
    assert cur.execute(sql).fetchall() == first
    assert cur.stats.llm_calls == 0 and cur.stats.cache_hits > 0


@pytest.fixture(scope="module")
def big(tiny_model):
    """600 rows with distinct reviews: a LIMIT must not infer the table."""
    c = infersql.connect(model=tiny_model, kv_cache_bytes=16 << 20)
    c.execute("CREATE TABLE t AS SELECT i AS id, 'review ' || i || ' of a film about '"
              " || (i % 7) AS review FROM range(600) r(i)")
    yield c
    c.close()


def test_limit_over_an_llm_filter_stops_after_a_few_waves(big, capsys):
    cur = big.cursor()
    rows = cur.execute(f"SELECT id FROM t WHERE {F} LIMIT 5").fetchall()
    planned = cur.stats.llm_calls
    with capsys.disabled():
        print(f"\n  LIMIT 5 over 600 rows: {planned} calls planned, 600 naive")
    assert len(rows) == 5 and planned <= 64
    ids = ", ".join(str(r[0]) for r in rows)
    checked = cur.execute(f"SELECT bool_and({F}) FROM t WHERE id IN ({ids})").fetchone()[0]
    assert checked is True
    assert "stops after: 5 rows pass" in "\n".join(
        r[0] for r in cur.execute(f"EXPLAIN SELECT id FROM t WHERE {F} LIMIT 5").fetchall())


ALWAYS = "LLM_CLASSIFY('Which mood?', ['happy', 'sad', 'tense'], review) IN ('happy', 'sad', 'tense')"


def test_two_llm_filters_in_the_worse_order_cost_about_the_better_order(conn, capsys):
    """A predicate that passes every row goes last, whichever order it is written in."""
    cur = conn.cursor()
    forget(conn)
    rate = cur.execute(f"SELECT avg({F}::INT) FROM reviews").fetchone()[0]
    selective = F if rate <= 0.5 else f"NOT {F}"       # the model's answers are noise
    costs = {}
    for name, where in (("better", f"{selective} AND {ALWAYS}"),
                        ("worse", f"{ALWAYS} AND {selective}")):
        forget(conn)
        rows = cur.execute(f"SELECT id FROM reviews WHERE {where} ORDER BY id").fetchall()
        # tokens asked of the engine (its KV cache keeps blocks across statements, so
        # prefilled tokens would favour whichever order ran second)
        costs[name] = (cur.stats.prompt_tokens + cur.stats.decoded_tokens, rows)
    with capsys.disabled():
        print(f"\n  tokens: better order {costs['better'][0]}, worse order {costs['worse'][0]}")
    assert costs["worse"][1] == costs["better"][1]
    assert costs["worse"][0] <= 1.10 * costs["better"][0]
    plan = "\n".join(r[0] for r in cur.execute(           # now from the runs' feedback
        f"EXPLAIN SELECT id FROM reviews WHERE {ALWAYS} AND {selective}").fetchall())
    assert plan.index("LLM_CLASSIFY") < plan.index("LLM_FILTER")    # the top runs last
    assert "(feedback)" in plan


def _upper_bound(conn, written: str, field_order) -> int:
    """Prompt tokens if every distinct prefix is computed once."""
    rows = conn.execute(f"SELECT {written} FROM r").fetchall()
    call = LLMCall("filter", "", "Would you watch it?", tuple(written.split(", ")),
                   field_orders=field_order and FieldOrders.fixed(field_order))
    tok = conn.engine.tokenizer
    ids = [encode_prompt(tok, call.render(list(row)), chat=True) for row in rows]
    total = sum(len(i) for i in ids)
    return round(total * (1 - hit_rate(ids)))


@pytest.mark.parametrize("written, auto", [("info, review", False), ("review, info", True)])
def test_prefix_sharing_at_a_small_kv_budget(tiny_model, written, auto, capsys):
    geom = read_geometry(tiny_model)
    block = bytes_per_block(geom, 16, "float32")
    # Each movie's prefix is ~90 tokens (6 blocks): 12 of them need ~70 blocks; hold half.
    # The engine evicts by the request order it was given (Belady, the SQL layer's default):
    # with LRU, blocks of a prefix whose last rows are still queued can go first (1.11x here).
    budget = 36 * block
    call = f"LLM_FILTER('Would you watch it?', {written}" + (", field_order := 'auto')" if auto else ")")
    sql = f"SELECT id FROM r WHERE {call} ORDER BY id"
    prefilled = {}
    for optimize in (True, False) if not auto else (True,):
        with infersql.connect(model=tiny_model, kv_cache_bytes=budget, optimize=optimize) as c:
            c.execute(movies_db_sql())
            cur = c.cursor()
            cur.execute(sql).fetchall()
            prefilled[optimize] = cur.stats.prefilled_tokens
            if optimize:
                bound = _upper_bound(c, written, (1, 0) if auto else None)
    with capsys.disabled():
        print(f"\n  {written} (auto={auto}): prefilled {prefilled}, upper bound {bound}")
    assert prefilled[True] <= 1.10 * bound
    if not auto:
        assert prefilled[False] > 1.10 * bound      # table order at this budget recomputes


def _explain_json(cur, sql: str) -> dict:
    return json.loads(cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").fetchone()[0])


@pytest.mark.parametrize("sql", [
    f"SELECT id FROM reviews WHERE stars >= 2 AND {F}",
    f"SELECT id, {L} FROM reviews ORDER BY stars DESC, id LIMIT 5",
    "SELECT r.id, LLM_FILTER('Good fit?', m.title, m.info, r.review) FROM reviews r JOIN movies m ON m.id = r.movie_id",
])
def test_explain_estimates_against_analyze(tiny_model, sql):
    """On a cold engine: the estimates assume an empty KV cache (see optimizer/estimate.py)."""
    with infersql.connect(model=tiny_model, kv_cache_bytes=8 << 20) as conn:
        conn.execute(fixture_sql())
        doc = _explain_json(conn.cursor(), sql)
    (scope,) = doc["scopes"]
    for op in scope["operators"]:
        est, act = op["estimate"], op["actual"]
        assert est["distinct"] - est["cache_hits"] == act["llm_calls"]
        assert abs(est["prompt_tokens"] - act["prompt_tokens"]) <= 0.10 * act["prompt_tokens"]
        assert abs(est["cached_tokens"] - act["cached_tokens"]) <= 0.10 * act["prompt_tokens"]
    assert doc["actual_total"]["lazy_evaluations"] == 0


def test_executemany_sends_every_rows_prompts_as_one_batch(tiny_model):
    rows = [(i, f"note number {i}") for i in range(24)]
    sql = "INSERT INTO out VALUES (?, LLM_FILTER('Is it urgent?', ?))"
    results = {}
    for optimize in (True, False):
        with infersql.connect(model=tiny_model, optimize=optimize) as c:
            c.execute("CREATE TABLE out (k INT, v BOOLEAN)")
            cur = c.cursor()
            cur.executemany(sql, rows)
            assert cur.rowcount == len(rows)
            results[optimize] = (c.execute("SELECT * FROM out ORDER BY k").fetchall(),
                                 c.engine.stats.requests, c.engine.stats.iterations)
    assert results[True][0] == results[False][0]            # the same answers
    assert results[True][1] == len(rows) and results[True][2] <= 3     # in one batch
    assert results[False][2] >= len(rows)                   # one engine call per row


def test_executemany_stats_cover_every_row(tiny_model):
    """``cursor.stats`` after executemany is the whole batch's LLM work (it was the last row's:
    llm_calls=0, cache_hits=1 after 300 rows): each distinct prompt inferred once, and the rows
    that repeat a prompt answered by the cache."""
    rows = [(i, f"note number {i % 10}") for i in range(30)]
    with infersql.connect(model=tiny_model) as c:
        c.execute("CREATE TABLE out (k INT, v BOOLEAN)")
        cur = c.cursor()
        cur.executemany("INSERT INTO out VALUES (?, LLM_FILTER('Is it urgent?', ?))", rows)
        assert cur.rowcount == 30
        s = cur.stats
        assert (s.llm_calls, s.cache_hits, s.lazy_evaluations) == (10, 20, 0)
        assert s.prompt_tokens > 0 and s.prompt_tokens == s.cached_tokens + s.prefilled_tokens
        again = c.cursor()
        again.executemany("INSERT INTO out VALUES (?, LLM_FILTER('Is it urgent?', ?))", rows)
        assert (again.stats.llm_calls, again.stats.cache_hits) == (0, 30)


def test_errors_name_the_call_as_written_never_an_internal_name(conn):
    for sql in ("SELECT LLM('Say hi.', nosuchcol) FROM reviews",
                f"SELECT id FROM reviews WHERE {F} GROUP BY nosuch"):
        with pytest.raises(infersql.ProgrammingError) as info:
            conn.execute(sql)
        assert "__infersql" not in str(info.value).lower()
        assert "nosuch" in str(info.value)


def test_explain_counts_of_two_predicates_and_a_projection_are_exact_when_known(tiny_model):
    """Calls are exact for every operator once selectivities are known: the run's sample
    counts as calls, a call repeated across operators is counted once."""
    sql = (f"SELECT id, {F} AS f FROM reviews WHERE {F} AND "
           f"LLM_FILTER('Does it mention the ending?', review) ORDER BY id")
    with infersql.connect(model=tiny_model, kv_cache_bytes=8 << 20) as conn:
        conn.execute(fixture_sql())
        doc = _explain_json(conn.cursor(), sql)
        ops = doc["scopes"][0]["operators"]
        assert len(ops) == 3
        first = ops[0]
        assert first["estimate"]["distinct"] - first["estimate"]["cache_hits"] == first["actual"]["llm_calls"]
        assert sum(o["actual"]["llm_calls"] for o in ops) == doc["actual_total"]["llm_calls"]
        assert doc["actual_total"]["lazy_evaluations"] == 0


def test_a_calibrated_cost_model_reaches_the_engine_and_explain(tiny_model, tmp_path):
    """One place for the cost model: what ``infersql calibrate`` stored is what the engine's
    scheduler, the simulator and EXPLAIN use."""
    import duckdb

    from catalog.cost_coefficients import CostCoefficients
    from executor.engine.cost_model import REQUEST, CostModel
    from executor.engine.geometry import default_dtype

    db = str(tmp_path / "c.duckdb")
    with infersql.connect(db, model=tiny_model) as conn:
        conn.execute(fixture_sql())
        default = conn.runtime.models.cost_model(None)
        assert not default.calibrated
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM reviews WHERE {F}").fetchall())
        assert "cost model: uncalibrated" in plan
    fitted = CostModel({k: 2 * v for k, v in default.coefficients.items()} | {REQUEST: 0.5},
                       calibrated=True, source="test")
    with duckdb.connect(db) as con:
        CostCoefficients(con).put(tiny_model, "cpu", default_dtype("cpu"), fitted.to_dict(), 100)
    with infersql.connect(db, model=tiny_model) as conn:
        assert conn.engine.cost_model.calibrated
        assert conn.engine.cost_model.coefficients == fitted.coefficients
        cur = conn.cursor()
        plan = "\n".join(r[0] for r in cur.execute(f"EXPLAIN SELECT id FROM reviews WHERE {F}").fetchall())
        assert "cost model: calibrated" in plan
        # every request the operator sends pays the per-request term, outside the iterations
        doc = json.loads(cur.execute(f"EXPLAIN (FORMAT JSON) SELECT id FROM reviews WHERE {F}").fetchone()[0])
        est = doc["scopes"][0]["operators"][0]["estimate"]
        calls = est["distinct"] - est["cache_hits"]
        assert calls > 0 and 0.5 * calls <= est["seconds"] < 0.5 * calls + 5


def test_a_predicate_on_repeated_values_is_cheap_per_row_and_runs_first(conn):
    """Cost is per input row: a filter on the movie's fields (5 distinct prompts under 30
    reviews) costs a sixth of a filter on each review, so it runs first unless it keeps
    nearly every row."""
    join = "FROM reviews r JOIN movies m ON m.id = r.movie_id"
    on_movie = "LLM_FILTER('Is the film for children?', m.info)"
    cur = conn.cursor()
    forget(conn)
    rate = cur.execute(f"SELECT avg(({on_movie})::INT) {join}").fetchone()[0]
    movie_pred = on_movie if rate <= 0.5 else f"NOT {on_movie}"
    review_pred = "LLM_FILTER('Is this review positive?', r.review)"
    forget(conn)
    sql = f"SELECT r.id {join} WHERE {review_pred} AND {movie_pred} ORDER BY r.id"
    cur.execute(sql).fetchall()
    plan = "\n".join(r[0] for r in cur.execute("EXPLAIN " + sql).fetchall())
    # the tree lists the operator that runs last first
    assert plan.index("Is this review positive?") < plan.index("Is the film for children?")
