"""Two threads, each with its own cursor on one connection, get correct results together, and
cancelling one thread's statement leaves the other's alone."""
from __future__ import annotations

import _thread
import signal
import threading

import pytest

import infersql

QUERIES = [
    "SELECT id, LLM('Name a colour for', name, max_tokens := 5) FROM items ORDER BY id",
    "SELECT id, LLM_CLASSIFY('Size?', ['small', 'large'], name) FROM items ORDER BY id",
]


def test_two_threads_two_cursors(tiny_model):
    setup = "CREATE TABLE items AS SELECT range AS id, 'thing ' || range AS name FROM range(12)"
    with infersql.connect(model=tiny_model) as solo:
        solo.execute(setup)
        expected = [solo.execute(q).fetchall() for q in QUERIES]
    with infersql.connect(model=tiny_model) as conn:
        conn.execute(setup)
        got, errors = {}, []

        def work(i):
            try:
                cur = conn.cursor()
                for _ in range(2):
                    got[i] = cur.execute(QUERIES[i]).fetchall()
            except Exception as exc:   # surfaced below with the thread's own traceback
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        [t.start() for t in threads]
        [t.join(timeout=300) for t in threads]
        assert not errors
        assert [got[0], got[1]] == expected


@pytest.fixture
def sigint_raises():
    """Python's own SIGINT handler for the test: under nohup pytest starts with SIGINT ignored,
    and ``interrupt_main`` does nothing for a signal Python does not handle."""
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


def test_ctrl_c_cancels_only_its_own_statement(tiny_model, sigint_raises):
    """KeyboardInterrupt in the main thread cancels the main thread's statement, keeps what it
    finished, and leaves another thread's statement, queued behind it on the engine, to finish
    with the right answers."""
    small = "SELECT id, LLM('Name a colour for', name, max_tokens := 5) FROM items ORDER BY id"
    setup = "CREATE TABLE items AS SELECT range AS id, 'thing ' || range AS name FROM range(6)"
    with infersql.connect(model=tiny_model) as solo:
        solo.execute(setup)
        expected = solo.execute(small).fetchall()
    with infersql.connect(model=tiny_model, max_num_seqs=16) as conn:
        conn.execute(setup)
        conn.execute("CREATE TABLE big AS SELECT range AS i, 'row ' || range AS s FROM range(3000)")
        running, got = threading.Event(), []
        conn.runtime.listeners.append(lambda p: p.rows_done > 0 and running.set())

        def other_thread():
            running.wait(120)
            threading.Timer(1.0, _thread.interrupt_main).start()
            got.append(conn.cursor().execute(small).fetchall())

        worker = threading.Thread(target=other_thread)
        worker.start()
        with pytest.raises(KeyboardInterrupt):
            conn.execute("SELECT count(LLM('Tell a long story about', s, max_tokens := 64)) FROM big")
        worker.join(120)
        assert got == [expected]
        kept = conn.execute("SELECT count(*) FROM infersql_catalog.llm_cache WHERE prompt LIKE '%row %'").fetchone()[0]
        assert 0 < kept < 3000
