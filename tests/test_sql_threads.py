"""Two threads, each with its own cursor on one connection, get correct results together."""
from __future__ import annotations

import threading

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
