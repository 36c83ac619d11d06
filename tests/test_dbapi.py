"""PEP 249 conformance of infersql's module, connection and cursor."""
from __future__ import annotations

import threading

import pytest

import infersql

EXCEPTIONS = ["Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
              "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
              "NotSupportedError"]


@pytest.fixture
def conn(tiny_model, tmp_path):
    c = infersql.connect(str(tmp_path / "t.duckdb"), model=tiny_model, kv_cache_bytes=4 << 20)
    c.execute("CREATE TABLE t (i INTEGER, s VARCHAR)")
    c.cursor().executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, None)])
    yield c
    c.close()


def test_module_globals():
    assert infersql.apilevel == "2.0"
    assert infersql.threadsafety in (0, 1, 2, 3)
    assert infersql.paramstyle == "qmark"
    assert callable(infersql.connect)
    for name in ["Date", "Time", "Timestamp", "DateFromTicks", "TimeFromTicks",
                 "TimestampFromTicks", "Binary", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID"]:
        assert hasattr(infersql, name), name


def test_exception_hierarchy_on_module_and_connection(conn):
    for name in EXCEPTIONS:
        assert getattr(conn, name) is getattr(infersql, name)
    assert issubclass(infersql.Warning, Exception) and issubclass(infersql.Error, Exception)
    assert issubclass(infersql.InterfaceError, infersql.Error)
    assert issubclass(infersql.DatabaseError, infersql.Error)
    for name in EXCEPTIONS[4:]:
        assert issubclass(getattr(infersql, name), infersql.DatabaseError)


def test_description_rowcount_and_fetches(conn):
    cur = conn.cursor()
    assert cur.arraysize == 1 and cur.description is None and cur.rowcount == -1
    cur.execute("SELECT i, s FROM t ORDER BY i")
    assert [d[0] for d in cur.description] == ["i", "s"]
    assert all(len(d) == 7 for d in cur.description)
    assert cur.fetchone() == (1, "a")
    assert cur.fetchmany() == [(2, "b")]
    assert cur.fetchall() == [(3, None)]
    assert cur.fetchone() is None
    cur.arraysize = 2
    cur.execute("SELECT i FROM t ORDER BY i")
    assert cur.fetchmany() == [(1,), (2,)]


def test_llm_result_has_rowcount_and_streams_like_plain(conn):
    cur = conn.cursor()
    cur.execute("SELECT i, LLM_FILTER('Is it a vowel?', s) AS v FROM t ORDER BY i")
    assert cur.rowcount == 3
    assert [d[0] for d in cur.description] == ["i", "v"]
    assert len(cur.fetchmany(2)) == 2 and len(cur.fetchall()) == 1
    assert cur.fetchone() is None


def test_qmark_parameters(conn):
    cur = conn.cursor()
    assert cur.execute("SELECT s FROM t WHERE i = ?", [2]).fetchall() == [("b",)]
    rows = cur.execute("SELECT i, LLM('Echo', s, max_tokens := 2) FROM t WHERE i > ? ORDER BY i",
                       (1,)).fetchall()
    assert [r[0] for r in rows] == [2, 3]


def test_commit_and_rollback(conn):
    cur = conn.cursor()
    conn.commit()          # autocommit mode, nothing open: a no-op, not an error
    conn.rollback()
    cur.execute("BEGIN TRANSACTION")
    cur.execute("INSERT INTO t VALUES (9, 'z')")
    assert cur.execute("SELECT count(*) FROM t WHERE i = 9").fetchone() == (1,)
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM t WHERE i = 9").fetchone() == (0,)
    cur.execute("BEGIN TRANSACTION")
    cur.execute("INSERT INTO t VALUES (11, 'x')")
    conn.commit()
    assert conn.execute("SELECT count(*) FROM t WHERE i = 11").fetchone() == (1,)


def test_context_managers_and_close(tiny_model, tmp_path):
    path = str(tmp_path / "ctx.duckdb")
    with infersql.connect(path, model=tiny_model) as c:
        with c.cursor() as cur:
            cur.execute("CREATE TABLE x AS SELECT 1 AS one")
        with pytest.raises(infersql.InterfaceError):
            cur.execute("SELECT 1")
    assert c.closed
    with pytest.raises(infersql.InterfaceError):
        c.cursor()
    with pytest.raises(infersql.InterfaceError, match="connection is closed"):
        c.execute("SELECT 1")
    with infersql.connect(path, model=tiny_model) as c:
        assert c.execute("SELECT one FROM x").fetchall() == [(1,)]


def test_errors_are_pep249_and_connection_survives(conn):
    cur = conn.cursor()
    with pytest.raises(infersql.ProgrammingError):
        cur.execute("SELEC 1")
    with pytest.raises(infersql.ProgrammingError):
        cur.execute("SELECT * FROM no_such_table")
    with pytest.raises(infersql.ProgrammingError):
        cur.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(infersql.Error):
        cur.fetchall()
    assert cur.execute("SELECT count(*) FROM t").fetchone() == (3,)


def test_executemany_and_iteration(conn):
    cur = conn.cursor()
    cur.executemany("INSERT INTO t VALUES (?, ?)", [(4, "d"), (5, "e")])
    assert cur.rowcount == 2 and cur.description is None
    assert [r for r in cur.execute("SELECT i FROM t WHERE i > 3 ORDER BY i")] == [(4,), (5,)]


def test_cursor_per_thread(conn):
    out = {}

    def work(k):
        cur = conn.cursor()
        out[k] = cur.execute("SELECT sum(i) + ? FROM t", [k]).fetchone()[0]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert out == {k: 6 + k for k in range(4)}


def test_rowcount_of_dml_with_and_without_llm_calls(conn):
    cur = conn.cursor()
    assert cur.execute("UPDATE t SET s = upper(s) WHERE i <= 2").rowcount == 2
    cur.execute("CREATE TABLE v AS SELECT i, LLM_FILTER('Is it a vowel?', s) AS vowel FROM t")
    assert cur.rowcount == 3
    assert cur.execute("UPDATE v SET vowel = LLM_FILTER('Still?', i) WHERE i > 1").rowcount == 2
    assert cur.execute("DELETE FROM v WHERE i = 1").rowcount == 1
    assert cur.execute("SELECT count(*) FROM v WHERE vowel IS NOT NULL").fetchone() == (2,)


def test_text_that_only_looks_like_a_call_goes_to_duckdb(conn):
    cur = conn.cursor()
    rows = cur.execute("SELECT 'LLM(' || s AS x FROM t WHERE i = 1 -- LLM_FILTER(x)").fetchall()
    assert rows == [("LLM(a",)]
    assert conn.runtime.loaded == []            # no model was needed


def test_connection_execute_keeps_one_session_per_thread(conn):
    conn.execute("CREATE TEMP TABLE scratch AS SELECT 41 AS x")
    conn.execute("SET VARIABLE bump = 1")
    assert conn.execute("SELECT x + getvariable('bump') FROM scratch").fetchone() == (42,)
    conn.execute("BEGIN TRANSACTION")
    conn.execute("CREATE TEMP TABLE made AS SELECT LLM_FILTER('Vowel?', s) AS v FROM t")
    assert conn.execute("SELECT count(*) FROM made").fetchone() == (3,)
    conn.execute("ROLLBACK")
    with pytest.raises(infersql.ProgrammingError, match="made"):
        conn.execute("SELECT * FROM made")
    seen = []
    worker = threading.Thread(target=lambda: seen.append(
        conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scratch'").fetchone()))
    worker.start()
    worker.join()
    assert seen == [(0,)]                       # another thread: a session of its own


def test_new_execute_replaces_an_unread_result(conn):
    cur = conn.cursor()
    cur.execute("SELECT * FROM range(5000)")
    assert cur.fetchone() == (0,)
    rows = cur.execute("SELECT i, LLM_FILTER('Vowel?', s) FROM t ORDER BY i").fetchmany(1)
    assert len(rows) == 1 and rows[0][0] == 1
    cur.execute("SELECT 1")                              # an unread LLM result is dropped too
    assert cur.execute("INSERT INTO t VALUES (7, 'g')").rowcount == 1
    assert cur.execute("SELECT count(*) FROM t").fetchone() == (4,)


def test_errors_raised_while_rows_stream_are_pep249(conn):
    cur = conn.cursor()
    cur.execute("SELECT range, CASE WHEN range = 300000 THEN error('boom') END FROM range(400000)")
    with pytest.raises(infersql.ProgrammingError, match="boom"):
        cur.fetchall()
    assert cur.execute("SELECT 1").fetchone() == (1,)


def test_several_statements_keep_the_last_result(conn):
    cur = conn.cursor()
    cur.execute("SELECT * FROM range(5000); SELECT i, LLM_FILTER('Vowel?', s) AS v FROM t; "
                "SELECT count(*) AS n FROM t")
    assert [d[0] for d in cur.description] == ["n"] and cur.fetchall() == [(3,)]


def test_type_objects_and_constructors(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1::TINYINT, 2.5::DECIMAL(5, 2), 'x', 'x'::BLOB, ?::DATE, ?::TIMESTAMP, "
                "now(), [1], ?::BLOB, ?::TIME",
                [infersql.Date(2024, 2, 29), infersql.Timestamp(2024, 2, 29, 12, 30),
                 infersql.Binary(b"\x00\x01"), infersql.TimeFromTicks(0)])
    types = [d[1] for d in cur.description]
    assert types[0] == infersql.NUMBER and types[1] == infersql.NUMBER
    assert types[2] == infersql.STRING and types[3] == infersql.BINARY
    assert all(t == infersql.DATETIME for t in (types[4], types[5], types[6], types[9]))
    assert types[7] != infersql.NUMBER and types[2] != infersql.NUMBER
    assert infersql.NUMBER == infersql.NUMBER and infersql.NUMBER != infersql.STRING
    row = cur.fetchone()
    assert row[4] == infersql.Date(2024, 2, 29) and row[5] == infersql.Timestamp(2024, 2, 29, 12, 30)
    assert row[8] == b"\x00\x01"
    assert infersql.DateFromTicks(0) == infersql.TimestampFromTicks(0).date()


def test_threads_caps_duckdb_and_checks_its_value():
    with infersql.connect(threads=1) as conn:
        assert conn.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    with pytest.raises(infersql.ProgrammingError, match="threads must be a positive integer"):
        infersql.connect(threads=0)
