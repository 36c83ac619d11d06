"""A lost worker costs only its unfinished requests: killed a third of the way through a
1,000-row LLM_FILTER, the statement still returns the same rows, and no request answered
before the kill is answered again (the workers' answers sum to the distinct prompts, and the
result cache holds each once). With every worker lost the statement fails, keeping what
finished; Ctrl-C stops the work on every worker."""
from __future__ import annotations

import os
import signal
import time

import pytest
import ray

import infersql
from tests.optimizer_fixture import forget

ROWS = 1000
NOTES = (f"CREATE TABLE notes AS SELECT i AS id, 'Note ' || i || ': the ' || "
         "(['red', 'old', 'small', 'loud'])[i % 4 + 1] || ' ' || "
         "(['dog', 'cat', 'train', 'boat', 'garden'])[i % 5 + 1] || ' was seen ' || "
         f"(['early', 'late', 'twice'])[i % 3 + 1] || '.' AS note FROM range({ROWS}) t(i)")
SQL = "SELECT id FROM notes WHERE LLM_FILTER('Is the note about a dog?', note) ORDER BY id"


@pytest.fixture(scope="module")
def conn(tiny_model):
    c = infersql.connect(model=tiny_model, workers=2, kv_cache_bytes=4 << 20)
    c.execute(NOTES)
    yield c
    c.close()
    ray.shutdown()


@pytest.fixture(scope="module")
def expected(conn):
    forget(conn)
    cur = conn.cursor()
    rows = cur.execute(SQL).fetchall()
    assert cur.stats.llm_calls == ROWS and 0 < len(rows) < ROWS
    return rows


class AtOneThird:
    """A progress listener that acts once a third of the statement's rows are done."""

    def __init__(self, action) -> None:
        self.action, self.done_at = action, None

    def __call__(self, progress) -> None:
        if self.done_at is None and progress.rows_total and \
                progress.rows_done >= progress.rows_total / 3:
            self.done_at = progress.rows_done
            self.action()


def _pool(conn):
    return conn.runtime.models.loaded_engine(None)


def _kill(conn, how_many: int):
    def kill() -> None:
        for slot in _pool(conn).alive()[:how_many]:
            ray.kill(slot.actor)
    return kill


def _cached(conn) -> int:
    return conn.execute("SELECT count(*) FROM infersql_catalog.llm_cache").fetchone()[0]


def _run(conn, hook, sql=SQL):
    conn.runtime.listeners.append(hook)
    try:
        cur = conn.cursor()
        return cur, cur.execute(sql).fetchall()
    finally:
        conn.runtime.listeners.remove(hook)


def test_a_killed_worker_loses_only_its_unfinished_requests(conn, expected):
    forget(conn)
    hook = AtOneThird(_kill(conn, 1))
    cur, rows = _run(conn, hook)
    assert hook.done_at is not None and ROWS / 3 <= hook.done_at < ROWS
    assert rows == expected
    report = _pool(conn).last_run
    assert len(report.lost) == 1 and report.replanned > 0, report
    workers = cur.stats.workers
    assert [w["lost"] for w in workers.values()].count(True) == 1
    assert all(w["requests"] > 0 for w in workers.values())      # the lost one had answered
    assert sum(w["requests"] for w in workers.values()) == cur.stats.llm_calls == ROWS
    assert _cached(conn) == ROWS


def test_losing_every_worker_fails_and_keeps_what_finished(conn, expected):
    forget(conn)
    hook = AtOneThird(_kill(conn, 2))
    with pytest.raises(infersql.OperationalError, match="every Ray worker was lost"):
        _run(conn, hook)
    kept = _cached(conn)
    assert hook.done_at <= kept < ROWS
    cur = conn.cursor()                      # the next statement starts new workers
    assert cur.execute(SQL).fetchall() == expected
    assert cur.stats.cache_hits == kept
    assert sum(w["requests"] for w in cur.stats.workers.values()) == ROWS - kept


def test_ctrl_c_stops_the_work_on_every_worker(conn):
    forget(conn)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _run(conn, AtOneThird(lambda: os.kill(os.getpid(), signal.SIGINT)))
    finally:
        signal.signal(signal.SIGINT, previous)
    pool = _pool(conn)

    def states():
        return ray.get([s.actor.status.remote() for s in pool.alive()])

    deadline = time.monotonic() + 30
    while any(s["running"] is not None for s in states()):
        assert time.monotonic() < deadline, "a worker still runs the cancelled statement"
        time.sleep(0.1)
    before = [s["stats"]["prefilled_tokens"] for s in states()]
    time.sleep(0.5)
    assert [s["stats"]["prefilled_tokens"] for s in states()] == before
    assert 0 < _cached(conn) < ROWS
