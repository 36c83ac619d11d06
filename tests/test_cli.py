"""The ``infersql`` command: -c, .sql files, a database file, interactive input, errors without
tracebacks, no progress bar when piped, and Ctrl-C that keeps finished results."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import infersql

CLI = [sys.executable, "-m", "infersql.cli"]


def run(args, stdin=None, timeout=120):
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONPATH=os.getcwd()))


def test_command_prints_aligned_table(tiny_model):
    p = run(["-m", tiny_model, "-c",
             "SELECT 1 AS id, 'x' AS name, LLM_FILTER('Is it?', 'x') IS NOT NULL AS ok"])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split("|")[0].strip() == "id" and "name" in lines[0] and "ok" in lines[0]
    assert set(lines[1]) <= {"-", "+"}
    assert lines[2].split("|")[2].strip() == "True"
    assert lines[-1] == "(1 row)"
    assert "\x1b[" not in p.stderr          # piped: no progress bar drawn


def test_sql_file_on_database_file(tiny_model, tmp_path):
    db, script = tmp_path / "cli.duckdb", tmp_path / "q.sql"
    script.write_text("CREATE TABLE t AS SELECT range AS i FROM range(3);\n"
                      "SELECT i, LLM('Count', i, max_tokens := 2) IS NOT NULL AS done FROM t ORDER BY i;\n")
    p = run([str(db), str(script), "-m", tiny_model])
    assert p.returncode == 0, p.stderr
    assert "(3 rows)" in p.stdout
    with infersql.connect(str(db), model=tiny_model) as conn:      # persisted, and cached
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (3,)
        assert conn.catalog.cache_size() == 3


@pytest.mark.parametrize("sql", ["SELECT LLM('Q', 1, wrong := 1)", "SELEC 1",
                                 "SELECT * FROM missing"])
def test_errors_are_one_line_without_traceback(tiny_model, sql):
    p = run(["-m", tiny_model, "-c", sql])
    assert p.returncode == 1
    assert "Traceback" not in p.stderr and p.stderr.startswith("Error: ")


def test_missing_model_folder_is_a_clear_error(tmp_path):
    p = run(["-m", str(tmp_path / "nope"), "-c", "SELECT LLM('Q', 1)"])
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "nope" in p.stderr


def test_interactive_shell_reads_statements(tiny_model):
    p = run(["-m", tiny_model], stdin="SELECT 40 +\n 2 AS answer;\nSELEC oops;\nSELECT 7;\n.quit\n")
    assert p.returncode == 0
    assert "42" in p.stdout and "7" in p.stdout
    assert "Error:" in p.stderr and "Traceback" not in p.stderr


def test_builtin_demo_model_says_it_is_random(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd(), INFERSQL_HOME=str(tmp_path))
    p = subprocess.run(CLI + ["-c", "SELECT LLM_FILTER('Is it?', 'x') IS NOT NULL AS ok"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert "RANDOM" in p.stderr and "True" in p.stdout


def test_ctrl_c_cancels_cleanly_and_keeps_results(tiny_model, tmp_path):
    db = str(tmp_path / "sigint.duckdb")
    with infersql.connect(db, model=tiny_model) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS i, 'row number ' || range AS s FROM range(3000)")
    proc = subprocess.Popen(
        CLI + [db, "-m", tiny_model, "-c",
               "SELECT count(LLM('Write a long story about', s, max_tokens := 64)) FROM t"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=os.getcwd()))
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Cancelled" in err and "Traceback" not in err
    with infersql.connect(db, model=tiny_model) as conn:
        kept = conn.catalog.cache_size()
        assert 0 < kept < 3000
