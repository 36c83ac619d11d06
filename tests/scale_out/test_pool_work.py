"""How two workers do an operator's work (one local Ray for the module).

- Routing by prefix on real engines: two workers with half the KV cache each prefill within
  1.10x the tokens of one engine with all of it, on movie-shaped prompts (each movie's
  fields, then one of its reviews), because each movie's prefix is computed on one worker.
- A lost worker costs only its unfinished requests: killed a third of the way through a
  1,000-row LLM_FILTER, the statement still returns the same rows, and no request answered
  before the kill is answered again (the workers' answers sum to the distinct prompts, and
  the result cache holds each once). With every worker lost the statement fails, keeping what
  finished; Ctrl-C stops the work on every worker.
- Work stealing: with one worker ten times slower than the other (stand-in workers without a
  model, speaking the worker's protocol), the fast one takes whole units from the slow one's
  queue, and every request is answered once."""
from __future__ import annotations

import os
import signal
import time
from types import SimpleNamespace

import pytest
import ray

import infersql
from executor.engine import Output
from executor.scale.dispatch import OperatorRun
from executor.scale.pool import Slot
from tests.optimizer_fixture import forget

KV = 8 << 20                 # one engine's cache; each worker gets half
MOVIES, REVIEWS = 24, 20
FILMS = (
    f"CREATE TABLE movies AS SELECT i AS id, 'Film number ' || i AS title, "
    "'A story of ' || repeat('harbours, winters, trains and ' || i || ' long letters; ', 6) "
    f"AS info FROM range({MOVIES}) t(i);"
    f"CREATE TABLE reviews AS SELECT i AS id, i % {MOVIES} AS movie_id, 'Review ' || i || "
    "': ' || (['warm', 'slow', 'tense', 'grey'])[i % 4 + 1] || ' and ' || "
    "(['clever', 'long', 'kind'])[i % 3 + 1] || '.' AS review "
    f"FROM range({MOVIES * REVIEWS}) t(i)")
FIT = ("SELECT r.id FROM reviews r JOIN movies m ON m.id = r.movie_id "
       "WHERE LLM_FILTER('Does the review fit the film?', m.title, m.info, r.review) "
       "ORDER BY r.id")
ROWS = 1000
NOTES = (f"CREATE TABLE notes AS SELECT i AS id, 'Note ' || i || ': the ' || "
         "(['red', 'old', 'small', 'loud'])[i % 4 + 1] || ' ' || "
         "(['dog', 'cat', 'train', 'boat', 'garden'])[i % 5 + 1] || ' was seen ' || "
         f"(['early', 'late', 'twice'])[i % 3 + 1] || '.' AS note FROM range({ROWS}) t(i)")
SQL = "SELECT id FROM notes WHERE LLM_FILTER('Is the note about a dog?', note) ORDER BY id"


@pytest.fixture(scope="module")
def conn(tiny_model):
    c = infersql.connect(model=tiny_model, workers=2, kv_cache_bytes=KV // 2)
    c.execute(NOTES)
    c.execute(FILMS)
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
    """A progress listener that acts once a third of the statement's rows are done, and (given
    ``pool``) every worker has answered some of them."""

    def __init__(self, action, pool=None) -> None:
        self.action, self.done_at, self.pool = action, None, pool
        self.answered = {s.worker_id: s.answered for s in pool.alive()} if pool else {}

    def __call__(self, progress) -> None:
        if self.done_at is not None or not progress.rows_total or \
                progress.rows_done < progress.rows_total / 3:
            return
        if self.pool is None or all(s.answered > self.answered.get(s.worker_id, 0)
                                    for s in self.pool.alive()):
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


def test_two_workers_prefill_within_ten_percent_of_one_engine(conn, tiny_model, capsys):
    with infersql.connect(model=tiny_model, kv_cache_bytes=KV) as single:
        single.execute(FILMS)
        one = single.cursor()
        rows = one.execute(FIT).fetchall()
    forget(conn)
    two = conn.cursor()
    assert two.execute(FIT).fetchall() == rows
    one, two = one.stats, two.stats
    assert one.prompt_tokens == two.prompt_tokens and one.llm_calls == MOVIES * REVIEWS
    ratio = two.prefilled_tokens / one.prefilled_tokens
    with capsys.disabled():
        print(f"\n  prefilled tokens: one engine {one.prefilled_tokens}, two workers "
              f"{two.prefilled_tokens} ({ratio:.3f}x); per worker "
              f"{[w['prefilled_tokens'] for w in two.workers.values()]}")
    assert ratio <= 1.10
    assert all(w["requests"] > MOVIES * REVIEWS / 4 for w in two.workers.values())


def test_a_killed_worker_loses_only_its_unfinished_requests(conn, expected):
    forget(conn)
    hook = AtOneThird(_kill(conn, 1), _pool(conn))
    cur, rows = _run(conn, hook)
    assert hook.done_at is not None and ROWS / 3 <= hook.done_at < ROWS
    assert rows == expected
    report = _pool(conn).last_run
    assert len(report.lost) == 1 and report.replanned > 0, report
    workers = cur.stats.workers
    assert [w["lost"] for w in workers.values()].count(True) == 1
    assert all(w["requests"] > 0 for w in workers.values()), workers   # the lost one answered too
    assert sum(w["requests"] for w in workers.values()) == cur.stats.llm_calls == ROWS
    assert _cached(conn) == ROWS


def test_losing_every_worker_fails_and_keeps_what_finished(conn, expected):
    forget(conn)
    hook = AtOneThird(_kill(conn, 2), _pool(conn))
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


@ray.remote(num_cpus=0)
class StandIn:
    """Answers each request after ``delay`` seconds, as ``EngineWorker.run`` streams them."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def run(self, epoch, box, indexes, upcoming, later):
        for i in indexes:
            time.sleep(self.delay)
            yield [(i, Output(text=str(i), token_ids=[], finish_reason="stop"))], {}


class StandInPool:
    """What ``OperatorRun`` reads of a pool."""

    def __init__(self, delays) -> None:
        self.config, self.cost_model, self.client = SimpleNamespace(max_num_seqs=256), None, False
        self.slots = [Slot(i, i, StandIn.remote(d), node="here") for i, d in enumerate(delays)]

    def alive(self):
        return [s for s in self.slots if s.lost is None]


def test_an_idle_worker_steals_whole_units_from_a_slow_one(conn):      # conn: Ray is up
    prompts = [[1, 2, 3, 10 + i // 10] + [100 + i] * 4 for i in range(200)]   # 20 subtrees
    pool = StandInPool([0.02, 0.002])
    run = OperatorRun(pool, 0, ray.put(([], [])), prompts, [1] * len(prompts), [],
                      None, None, None)
    outputs = run.run()
    assert [o.text for o in outputs] == [str(i) for i in range(len(prompts))]
    slow, fast = pool.slots
    assert run.report.steals > 0
    assert fast.answered > 1.5 * slow.answered and slow.answered + fast.answered == len(prompts)
