"""The result cache, proven by engine stats: re-runs infer nothing, and a process killed
midway leaves its finished results for the next run."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import infersql

ROWS = 24
SETUP = f"CREATE TABLE items AS SELECT range AS id, 'item number ' || range AS name FROM range({ROWS})"
QUERY = "SELECT id, LLM('Describe the item.', name, max_tokens := 6) AS d FROM items ORDER BY id"


def test_rerun_performs_zero_inferences_across_sessions(tiny_model, tmp_path):
    db = str(tmp_path / "cache.duckdb")
    with infersql.connect(db, model=tiny_model) as conn:
        conn.execute(SETUP)
        first = conn.execute(QUERY).fetchall()
        assert conn.engine.stats.requests == ROWS
        again = conn.execute(QUERY).fetchall()
        assert again == first and conn.engine.stats.requests == ROWS
    with infersql.connect(db, model=tiny_model) as conn:     # a new session: same cache
        assert conn.execute(QUERY).fetchall() == first
        assert conn.engine.stats.requests == 0


def test_duplicate_prompts_are_inferred_once(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        conn.execute("CREATE TABLE d AS SELECT range % 3 AS k FROM range(30)")
        rows = conn.execute("SELECT k, LLM_FILTER('Is it zero?', k) FROM d").fetchall()
        assert len(rows) == 30 and conn.engine.stats.requests == 3


def test_sampling_without_seed_is_not_cached(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        conn.execute("CREATE TABLE d AS SELECT 'same' AS s FROM range(4)")
        conn.execute("SELECT LLM('Go', s, temperature := 1.0, max_tokens := 3) FROM d").fetchall()
        assert conn.engine.stats.requests == 4
        conn.execute("SELECT LLM('Go', s, temperature := 1.0, seed := 5, max_tokens := 3) FROM d").fetchall()
        conn.execute("SELECT LLM('Go', s, temperature := 1.0, seed := 5, max_tokens := 3) FROM d").fetchall()
        assert conn.engine.stats.requests == 5


KILLER = textwrap.dedent("""
    import os, signal, sys
    import infersql
    db, model, query = sys.argv[1:4]
    conn = infersql.connect(db, model=model, max_num_seqs=4, max_batch_tokens=64)
    conn.runtime.flush_every = 2

    def kill_midway(progress):
        if conn.catalog.cache_size() >= 6 and progress.rows_done < progress.rows_total:
            os.kill(os.getpid(), signal.SIGKILL)

    conn.runtime.listeners.append(kill_midway)
    conn.execute(query).fetchall()
    print("finished without being killed")
""")


def test_killed_process_recomputes_only_the_rest(tiny_model, tmp_path):
    db = str(tmp_path / "killed.duckdb")
    with infersql.connect(db, model=tiny_model) as conn:
        conn.execute(SETUP)
    proc = subprocess.run([sys.executable, "-c", KILLER, db, tiny_model, QUERY],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert proc.returncode == -9, proc.stdout + proc.stderr
    with infersql.connect(db, model=tiny_model) as conn:
        kept = conn.catalog.cache_size()
        assert 6 <= kept < ROWS
        rows = conn.execute(QUERY).fetchall()
        assert conn.engine.stats.requests == ROWS - kept
    with infersql.connect(model=tiny_model) as fresh:
        fresh.execute(SETUP)
        assert fresh.execute(QUERY).fetchall() == rows


def test_cache_is_per_model_dtype_and_decoding_options(tiny_model, tmp_path):
    """float32 and bfloat16 answers may differ, and so may other max_tokens: none is reused."""
    db = str(tmp_path / "dtype.duckdb")
    query = "SELECT LLM('Describe the item.', name, max_tokens := 3) FROM items"
    with infersql.connect(db, model=tiny_model) as conn:
        conn.execute(SETUP)
        conn.execute(query).fetchall()
        conn.execute(query.replace(":= 3", ":= 4")).fetchall()
        assert conn.engine.stats.requests == 2 * ROWS
    with infersql.connect(db, model=tiny_model, dtype="bfloat16") as conn:
        conn.execute(query).fetchall()
        assert conn.engine.stats.requests == ROWS
        keys = {r[0] for r in conn.execute("SELECT DISTINCT model FROM infersql_catalog.llm_cache").fetchall()}
        fingerprint = conn.runtime.models.cache_key(None).split(" [")[0]   # the content's
        assert keys == {f"{fingerprint} [float32]", f"{fingerprint} [bfloat16]"}


def test_progress_counts_tokens_of_the_running_statement_only(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS i FROM range(5)")
        seen = []
        conn.runtime.listeners.append(lambda p: seen.append((p.rows_done, p.tokens)))
        conn.execute("SELECT LLM('a', i, max_tokens := 3) FROM t").fetchall()
        first = seen[-1]
        conn.execute("SELECT LLM('b', i, max_tokens := 3) FROM t").fetchall()
        s = conn.engine.stats
        assert first[0] == seen[-1][0] == 5
        assert first[1] + seen[-1][1] == s.prefilled_tokens + s.decoded_tokens
        assert seen[-1][1] < s.prefilled_tokens + s.decoded_tokens
