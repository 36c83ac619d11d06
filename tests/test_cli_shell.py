"""The shell's reading of input: statements end at a ';' outside strings and comments, dot
commands are whole lines and never glued onto SQL, and each dot command does its job. Runs the
shell in-process on streams; tests/test_cli_pty.py drives it on a real terminal."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

import infersql
from infersql.dot_commands import QuitShell
from infersql.progress_bar import ProgressBar
from infersql.shell import Shell, one_line, timer_line
from infersql.statement_split import is_complete, split_complete


@pytest.mark.parametrize("text, statements, rest", [
    ("SELECT 1;", ["SELECT 1;"], ""),
    ("SELECT 'semi;", [], "SELECT 'semi;"),
    ("SELECT 'semi;\n' AS s;", ["SELECT 'semi;\n' AS s;"], ""),
    ("SELECT 'it''s;' ; SELECT 2", ["SELECT 'it''s;' ;"], "SELECT 2"),
    ('SELECT 1 AS "a;b";', ['SELECT 1 AS "a;b";'], ""),
    ("SELECT E'a\\';b';", ["SELECT E'a\\';b';"], ""),
    ("SELECT 'a\\';", ["SELECT 'a\\';"], ""),              # no escapes outside E''
    ("SELECT $$x;y$$;", ["SELECT $$x;y$$;"], ""),
    ("SELECT $t$ $$; $t$;", ["SELECT $t$ $$; $t$;"], ""),
    ("SELECT 1 -- no; end\n;", ["SELECT 1 -- no; end\n;"], ""),
    ("SELECT /* ; */ 1;", ["SELECT /* ; */ 1;"], ""),
    ("SELECT 1; -- trailing comment", ["SELECT 1;"], ""),
    ("SELECT 1; /* open", ["SELECT 1;"], "/* open"),
    (";;SELECT 1;", ["SELECT 1;"], ""),
])
def test_split_complete(text, statements, rest):
    assert split_complete(text) == (statements, rest)
    assert is_complete(text) == (rest == "")


@pytest.fixture
def shell():
    out, err = io.StringIO(), io.StringIO()
    conn = infersql.connect()
    sh = Shell(conn, ProgressBar(False), "csv", out=out, err=err)
    yield sh
    conn.close()


def feed(sh: Shell, *lines: str) -> tuple[str, str]:
    for line in lines:
        sh.feed(line)
    out, err = sh.out.getvalue(), sh.err.getvalue()
    sh.out.seek(0), sh.out.truncate(), sh.err.seek(0), sh.err.truncate()
    return out, err


def test_semicolon_inside_a_string_waits_for_the_closing_quote(shell):
    out, err = feed(shell, "SELECT 'semi;", "colon' AS s;")
    assert out == 's\n"semi;\ncolon"\n' and err == ""


def test_dot_commands_are_not_glued_onto_sql(shell):
    out, err = feed(shell, "CREATE TABLE items (id INTEGER, name VARCHAR);", ".tables",
                    "SELECT count(*) AS n FROM items;")
    assert out == "items\nn\n0\n" and err == ""


def test_tables_and_schema_hide_the_catalog(shell):
    feed(shell, "CREATE TABLE a (i INTEGER);", "CREATE SCHEMA s;", "CREATE VIEW s.v AS SELECT 1 AS x;")
    out, _ = feed(shell, ".tables")
    assert out.split() == ["a", "s.v"]
    out, _ = feed(shell, ".schema a")
    assert out == "CREATE TABLE a(i INTEGER);\n"
    out, _ = feed(shell, "SHOW TABLES;")
    assert "llm_cache" not in out and "infersql" not in out


def test_mode_timer_help_and_errors(shell):
    out, err = feed(shell, ".mode", ".mode json", "SELECT 1 AS one;", ".mode xml")
    assert out == 'current output mode: csv\n[{"one": 1}]\n' and "unknown mode 'xml'" in err
    out, err = feed(shell, ".timer on", "SELECT 1 AS one;", ".timer off", "SELECT 2 AS two;")
    assert err.count("Run Time:") == 1
    out, err = feed(shell, ".help")
    assert all(c in out for c in (".tables", ".schema", ".mode", ".timer", ".read", ".quit"))
    out, err = feed(shell, ".nonsense")
    assert err == "Error: unknown command .nonsense; .help lists the commands\n"
    with pytest.raises(QuitShell):
        feed(shell, ".quit")


def test_read_runs_a_file(shell, tmp_path):
    script = tmp_path / "s.sql"
    script.write_text("CREATE TABLE r AS SELECT 7 AS x;\n.mode line\nSELECT x FROM r;\n")
    out, err = feed(shell, f".read {script}")
    assert out == "x = 7\n" and err == ""
    out, err = feed(shell, f".read {tmp_path / 'missing.sql'}")
    assert "cannot read" in err


def test_errors_are_one_line(shell):
    _, err = feed(shell, "SELEC 1;")
    assert err.count("\n") == 1 and err.startswith("Error: Parser Error") and "at line 1" in err
    assert one_line(ValueError("first\nsecond")) == "first"


def test_timer_line_reads_statement_stats():
    from dataclasses import make_dataclass

    names = ["llm_calls", "cache_hits", "prompt_tokens", "cached_tokens", "prefilled_tokens",
             "decoded_tokens", "preemptions", "evictions", "lazy_evaluations", "seconds"]
    stats = make_dataclass("Stats", names)(12, 3, 1200, 300, 900, 64, 0, 1, 0, 0.5)
    line = timer_line(0.5, stats)
    assert line.startswith("Run Time: 0.500 s") and "LLM calls 12" in line
    assert "cache hits 3" in line and "decoded 64" in line and "prefilled 900" in line
    assert timer_line(0.25, None) == "Run Time: 0.250 s"


def test_timer_after_an_llm_statement(tiny_model):
    out, err = io.StringIO(), io.StringIO()
    with infersql.connect(model=tiny_model) as conn:
        sh = Shell(conn, ProgressBar(False), "csv", out=out, err=err)
        sh.feed(".timer on")
        sh.feed("SELECT LLM_FILTER('Is it?', s) IS NOT NULL AS ok FROM (VALUES ('a'), ('a'), ('b')) t(s);")
    assert out.getvalue() == "ok\nTrue\nTrue\nTrue\n"
    stats = getattr(sh.cursor, "stats", None)
    if stats is not None:            # per-statement stats come from the SQL execution path
        assert f"LLM calls {stats.llm_calls}" in err.getvalue()
    assert "Run Time:" in err.getvalue()


def test_piped_stdin_runs_a_final_statement_without_semicolon(tiny_model):
    p = subprocess.run([sys.executable, "-m", "infersql.cli", "-m", tiny_model],
                       input=".mode csv\nSELECT 'a;b' AS s;\nSELECT 2 AS n", capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "s\na;b\n\nn\n2\n"
