"""The ``infersql`` command: -c, .sql files, a database file, interactive input, errors without
tracebacks, no progress bar when piped, and Ctrl-C that keeps finished results."""
from __future__ import annotations

import importlib.metadata
import os
import pty
import re
import select
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
    p = run(["-m", tiny_model, "--table", "-c",
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
    p = run([str(db), str(script), "-m", tiny_model, "--table"])
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
    assert p.returncode == 1                   # piped input with an error, as in DuckDB's shell
    assert "42" in p.stdout and "7" in p.stdout
    assert "Error:" in p.stderr and "Traceback" not in p.stderr


def test_statements_share_one_session(tiny_model):
    p = run(["-m", tiny_model, "--table", "-c",
             "CREATE TEMP TABLE x AS SELECT 'a' AS s; SELECT LLM_FILTER('Ok?', s) IS NOT NULL AS ok "
             "FROM x; BEGIN; CREATE TABLE y AS SELECT 1; ROLLBACK; "
             "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'y'"])
    assert p.returncode == 0, p.stderr
    assert "True" in p.stdout and p.stdout.splitlines()[-2].strip() == "0"


def test_builtin_model_answers_without_a_random_model_warning(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd(), INFERSQL_HOME=str(tmp_path))
    p = subprocess.run(CLI + ["-c", "SELECT LLM_FILTER('Is the review positive?', 'A wonderful, moving film.') AS ok"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert "RANDOM" not in p.stderr and "True" in p.stdout


def _read_until(fd: int, proc, pattern: re.Pattern, seconds: float) -> tuple[str, re.Match | None]:
    """Read the terminal's output until ``pattern`` matches, the process ends, or time runs out."""
    text, deadline = "", time.monotonic() + seconds
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                text += os.read(fd, 65536).decode(errors="replace")
            except OSError:             # the child closed the terminal
                break
            if (m := pattern.search(text)) is not None:
                return text, m
        elif proc.poll() is not None:
            break
    return text, None


def test_ctrl_c_on_a_terminal_shows_progress_then_keeps_results(tiny_model, tmp_path):
    """On a terminal the bar shows rows, tokens/s and ETA; SIGINT, sent once the bar reports
    finished rows, cancels the statement, and every finished row stays in the cache."""
    db = str(tmp_path / "sigint.duckdb")
    with infersql.connect(db) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS i, 'row number ' || range AS s FROM range(3000)")
        # Few sequences at a time: the first rows finish soon, the statement would take long.
        conn.register_model("narrow", tiny_model, default=True, max_num_seqs=8)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        CLI + [db, "-c",
               "SELECT count(LLM('Write a long story about', s, max_tokens := 64)) FROM t"],
        stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, text=True,
        env=dict(os.environ, PYTHONPATH=os.getcwd(), COLUMNS="120"),
        # A shell without job control starts background jobs with SIGINT ignored, and Python
        # keeps an ignored SIGINT ignored: give the CLI the default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    try:
        shown, done = _read_until(master, proc, re.compile(r"\s([1-9]\d*)/(\d+) rows.*?tok/s"), 240)
        assert done is not None, shown
        rows_seen = int(done.group(1))
        proc.send_signal(signal.SIGINT)
        rest, _ = _read_until(master, proc, re.compile(r"(?!)"), 120)    # all, until it exits
        out = proc.communicate(timeout=60)[0]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, rest)
    assert "Cancelled" in rest and "Traceback" not in shown + rest
    with infersql.connect(db, model=tiny_model) as conn:
        kept = conn.catalog.cache_size()
        assert rows_seen <= kept < 3000


def test_version():
    p = run(["--version"])
    assert p.returncode == 0
    assert p.stdout.split()[:2] == ["infersql", infersql.__version__]
    assert infersql.__version__ == importlib.metadata.version("infersql")


def test_help_reads_well_in_a_terminal_and_lists_calibrate():
    p = run(["--help"])
    assert p.returncode == 0
    assert "``" not in p.stdout
    assert "infersql calibrate" in p.stdout
    for option in ("-bail, --bail", "--threads N", "--version"):
        assert option in p.stdout
    assert "-c stops at its first error" in p.stdout and "exit status" in p.stdout


def test_dtype_and_compile_reach_the_engine_and_explain(tiny_model):
    p = run(["-m", tiny_model, "--dtype", "bfloat16", "--compile", "--line", "-c",
             "EXPLAIN SELECT LLM('Say hi', 'x')"])
    assert p.returncode == 0, p.stderr
    engine = next(line for line in p.stdout.splitlines() if "engine:" in line)
    assert "dtype=bfloat16" in engine and "compile=True" in engine
    p = run(["-m", tiny_model, "--line", "-c", "EXPLAIN SELECT LLM('Say hi', 'x')"])
    engine = next(line for line in p.stdout.splitlines() if "engine:" in line)
    assert "dtype=float32" in engine and "compile" not in engine
