"""Read-only databases: ``connect(read_only=True)`` and ``--read-only`` open the file without
writing to it, also when the file itself is read-only; LLM queries still run and reuse the
results the file holds, new results live for the session only (said once, by a
``ReadOnlyWarning`` that ``warnings`` can filter), and writes fail with an OperationalError
that names the fix."""
from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
import warnings

import pytest

import infersql
from infersql.exceptions import ReadOnlyWarning

QUERY = "SELECT s, LLM('Echo', s, max_tokens := 3) AS a FROM t ORDER BY s"


@pytest.fixture
def db(tmp_path, tiny_model):
    path = str(tmp_path / "ro.duckdb")
    with infersql.connect(path, model=tiny_model) as conn:
        conn.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a'), ('b')) v(s)")
        first = conn.execute(QUERY).fetchall()
    return path, first


def _file_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_read_only_connection_answers_from_the_files_cache(db, tiny_model):
    path, first = db
    before = _file_bytes(path)
    with infersql.connect(path, model=tiny_model, read_only=True) as conn:
        assert conn.execute(QUERY).fetchall() == first
        assert conn.engine.stats.requests == 0            # all from the file's result cache
        for write in ("INSERT INTO t VALUES ('c')", "UPDATE t SET s = 'z'", "DROP TABLE t",
                      "CREATE TABLE u (i INTEGER)"):
            with pytest.raises(infersql.OperationalError, match="read-only.*without read_only"):
                conn.execute(write)
        with pytest.raises(infersql.OperationalError, match="read-only"):
            conn.execute("INSERT INTO t SELECT LLM('Echo', s, max_tokens := 3) FROM t")
        with pytest.raises(infersql.OperationalError, match="read-only"):
            conn.register_model("m", tiny_model)
    assert _file_bytes(path) == before


def test_new_results_are_kept_for_the_session_and_said_once(db, tiny_model):
    path, _ = db
    query = "SELECT s, LLM('Shout', s, max_tokens := 3) AS a FROM t ORDER BY s"
    with warnings.catch_warnings(record=True) as said, \
            infersql.connect(path, model=tiny_model, read_only=True) as conn:
        warnings.simplefilter("always")
        rows = conn.execute(query).fetchall()
        requests = conn.engine.stats.requests
        assert requests == 2
        assert conn.execute(query).fetchall() == rows           # the session's cache
        conn.execute("SELECT LLM('Whisper', s, max_tokens := 2) FROM t").fetchall()
        assert conn.engine.stats.requests == requests + 2
    said = [w for w in said if issubclass(w.category, ReadOnlyWarning)]
    assert len(said) == 1 and "not persisted" in str(said[0].message)
    assert issubclass(ReadOnlyWarning, UserWarning)
    with infersql.connect(path, model=tiny_model) as conn:    # nothing was written
        assert conn.catalog.cache_size() == 2


def test_the_notice_can_be_filtered(db, tiny_model):
    path, _ = db
    with warnings.catch_warnings(record=True) as said, \
            infersql.connect(path, model=tiny_model, read_only=True) as conn:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=ReadOnlyWarning)
        conn.execute("SELECT LLM('Hum', s, max_tokens := 2) FROM t").fetchall()
        assert conn.engine.stats.requests == 2
    assert not [w for w in said if "read-only" in str(w.message)]


def test_immutable_file_and_a_file_without_a_catalog(tmp_path, tiny_model):
    import duckdb

    path = str(tmp_path / "plain.duckdb")
    with duckdb.connect(path) as con:                 # made by plain DuckDB: no catalog schema
        con.execute("CREATE TABLE t AS SELECT 'x' AS s")
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        with infersql.connect(path, model=tiny_model, read_only=True) as conn, \
                pytest.warns(ReadOnlyWarning, match="not persisted"):
            assert conn.execute(QUERY).fetchall()[0][0] == "x"
            assert conn.execute("SELECT count(*) FROM duckdb_schemas() "
                                "WHERE schema_name = 'infersql_catalog'").fetchone() == (0,)
    finally:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def test_cli_read_only_flag(db, tiny_model):
    path, first = db
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    p = subprocess.run([sys.executable, "-m", "infersql.cli", path, "--read-only", "-m", tiny_model,
                        "--csv", "-c", QUERY + "; INSERT INTO t VALUES ('c')"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 1
    assert list(csv.reader(io.StringIO(p.stdout))) == [["s", "a"]] + [list(r) for r in first]
    assert "read-only" in p.stderr and "Traceback" not in p.stderr


def test_read_only_needs_a_file(tmp_path):
    with pytest.raises(infersql.ProgrammingError, match="needs a database file"):
        infersql.connect(read_only=True)
    with pytest.raises(infersql.Error, match="does not exist"):
        infersql.connect(str(tmp_path / "missing.duckdb"), read_only=True)
