"""The failures a public PEP 249 conformance suite found, kept fixed: ``description`` is None
after DDL and DML, fetching after a statement without rows raises ``Error``, ``executemany``
of plain SQL is DuckDB's own (one prepared statement), and the declared DuckDB versions are
the ones tested."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

import infersql


@pytest.fixture
def cur():
    conn = infersql.connect()
    c = conn.cursor()
    c.execute("CREATE TABLE booze (name VARCHAR(20))")
    yield c
    conn.close()


@pytest.mark.parametrize("sql, rowcount", [
    ("CREATE TABLE other (i INTEGER)", -1),
    ("INSERT INTO booze VALUES ('Victoria Bitter'), ('Cooper''s')", 2),
    ("UPDATE booze SET name = 'x' WHERE false", 0),
    ("DELETE FROM booze", 0),
    ("DROP TABLE booze", -1),
    ("BEGIN TRANSACTION", -1),
    ("SET threads = 1", -1),
    ("CREATE TABLE copy AS SELECT * FROM booze", 0),
])
def test_description_is_none_after_ddl_and_dml(cur, sql, rowcount):
    cur.execute(sql)
    assert cur.description is None
    assert cur.rowcount == rowcount
    for fetch in (cur.fetchone, cur.fetchall, lambda: cur.fetchmany(2)):
        with pytest.raises(infersql.Error):
            fetch()


def test_queries_that_look_like_placeholders_keep_their_result(cur):
    cur.execute('SELECT count(*)::BIGINT AS "Count" FROM booze')
    assert cur.description[0][0] == "Count" and cur.fetchall() == [(0,)]
    cur.execute('SELECT true AS "Success"')
    assert cur.fetchone() == (True,)
    cur.execute("INSERT INTO booze VALUES ('a') RETURNING name")
    assert cur.fetchall() == [("a",)]


def test_description_is_none_after_ddl_with_an_llm_call(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE answers AS SELECT LLM('Say hi', max_tokens := 2) AS a")
        assert cur.description is None
        with pytest.raises(infersql.Error):
            cur.fetchall()


class _CountingConnection:
    """A DuckDB connection that counts what the cursor asks of it."""

    def __init__(self, con) -> None:
        self.con, self.calls = con, []

    def __getattr__(self, name):
        attr = getattr(self.con, name)
        if name in ("execute", "executemany"):
            def counted(*args, **kwargs):
                self.calls.append(name)
                return attr(*args, **kwargs)
            return counted
        return attr


def test_executemany_of_plain_sql_is_duckdbs_own(cur):
    counting = cur._con = _CountingConnection(cur._con)
    cur.executemany("INSERT INTO booze VALUES (?)", [(f"beer {i}",) for i in range(1000)])
    assert counting.calls == ["executemany"]
    assert cur.rowcount == 1000 and cur.description is None
    cur.execute("SELECT count(*) FROM booze")
    assert cur.fetchone() == (1000,)
    with pytest.raises(infersql.ProgrammingError):
        cur.executemany("INSERT INTO nowhere VALUES (?)", [(1,)])


def test_executemany_with_llm_calls_still_runs_every_row(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE notes (s VARCHAR, ok BOOLEAN)")
        cur.executemany("INSERT INTO notes SELECT ?, LLM_FILTER('Is it a fruit?', ?)",
                        [("apple", "apple"), ("stone", "stone")])
        assert cur.rowcount == 2
        assert conn.execute("SELECT count(*) FROM notes WHERE ok IS NOT NULL").fetchone() == (2,)


def test_declared_duckdb_versions_include_the_tested_one():
    tomllib = pytest.importorskip("tomllib")          # Python 3.11+
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    spec = next(d for d in project["project"]["dependencies"] if d.startswith("duckdb"))
    low = re.search(r">=\s*([\d.]+)", spec).group(1)
    high = re.search(r"<\s*([\d.]+)", spec).group(1)
    version = tuple(int(x) for x in duckdb.__version__.split(".")[:2])
    assert tuple(int(x) for x in low.split(".")[:2]) <= version < tuple(int(x) for x in high.split(".")[:2])
    # 1.2 and 1.3 fail at import, 1.4 at every execute: the range must exclude them.
    assert tuple(int(x) for x in low.split(".")[:2]) >= (2, 0)
