"""What the CLI prints: whole values in machine-readable modes when piped (every sql_examples/
file parses as CSV and as JSON), tables fitted to a terminal with control characters escaped,
EXPLAIN as plain lines, one-line errors."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import infersql
from infersql.output_modes import render
from infersql.progress_bar import ProgressBar
from infersql.shell import Shell
from infersql.table_format import escape, fit_widths, format_table

CLI = [sys.executable, "-m", "infersql.cli"]
EXAMPLES = sorted((Path(__file__).parent.parent / "sql_examples").glob("*.sql"))
LONG = "x" * 150 + " end"


def run(args, timeout=180):
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=os.getcwd()))


def csv_blocks(text: str) -> list[list[list[str]]]:
    """Results written one after another, split at the empty row between them."""
    blocks: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(text)):
        if row:
            blocks[-1].append(row)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def json_values(text: str) -> list:
    decoder, values, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        value, i = decoder.raw_decode(text, i)
        values.append(value)
    return values


def test_piped_output_is_csv_with_whole_values():
    p = run(["-c", f"SELECT '{LONG}' AS long, 'a,b\"c' AS tricky, NULL AS nothing, "
                   "'line1\nline2' AS nl"])
    assert p.returncode == 0, p.stderr
    assert list(csv.reader(io.StringIO(p.stdout))) == [
        ["long", "tricky", "nothing", "nl"], [LONG, 'a,b"c', "", "line1\nline2"]]


@pytest.mark.parametrize("mode", ["--json", "--mode=json"])
def test_json_mode(mode):
    p = run([mode, "-c", f"SELECT 1 AS i, '{LONG}' AS s, 2.5 AS d, NULL AS n, true AS b "
                          "UNION ALL SELECT 2, 'x', 3.5, 1, false ORDER BY i"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [{"i": 1, "s": LONG, "d": 2.5, "n": None, "b": True},
                                    {"i": 2, "s": "x", "d": 3.5, "n": 1, "b": False}]


def test_table_mode_when_piped_keeps_whole_values_and_escapes_control_characters():
    p = run(["--table", "-c", f"SELECT '{LONG}' AS v UNION ALL SELECT 'over' || chr(13) || 'write' "
                              "|| chr(4) || chr(27) || '[2J'"])
    assert p.returncode == 0, p.stderr
    assert LONG in p.stdout
    assert "over\\rwrite\\x04\\x1b[2J" in p.stdout
    assert not any(c in p.stdout for c in "\r\x04\x1b")


def test_line_mode_and_dml_counts():
    p = run(["--line", "-c", "CREATE TABLE t (i INTEGER, s VARCHAR); "
                             "INSERT INTO t VALUES (1, 'a'), (2, 'b'); SELECT * FROM t ORDER BY i"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == "(2 rows changed)\ni = 1\ns = a\n\ni = 2\ns = b\n"


def test_explain_is_plain_lines_for_people_and_one_column_for_programs():
    p = run(["--table", "-c", "EXPLAIN SELECT 42"])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any("Projection" in line for line in lines) and "explain_value" not in p.stdout
    assert not any(line.startswith(("-+-", "(1 row")) for line in lines)
    p = run(["--csv", "-c", "EXPLAIN SELECT 42"])
    rows = list(csv.reader(io.StringIO(p.stdout)))
    assert rows[0] == ["QUERY PLAN"] and [r[0] for r in rows[1:]] == lines
    p = run(["--json", "-c", "EXPLAIN SELECT 42"])
    assert [o["QUERY PLAN"] for o in json.loads(p.stdout)] == lines


def test_malformed_sql_is_one_line():
    p = run(["-c", "SELEC 1"])
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("Error: ") and "line 1" in p.stderr


def test_table_fits_the_terminal_width():
    rows = [(1, "a" * 300, "b" * 50), (2, "short", None)]
    text = format_table(["id", "text", "other"], rows, width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" in lines[2] and lines[-1] == "(2 rows)"
    assert format_table(["id", "text", "other"], rows, width=None).count("a" * 300) == 1
    assert fit_widths([5, 100, 100], 60) == [5, 24, 24]
    assert fit_widths([5, 10], 60) == [5, 10]


def test_escape():
    assert escape("a\rb\tc\nd\x00\x7f\u0085é") == "a\\rb\\tc\\nd\\x00\\x7f\\x85é"


def test_render_modes_directly():
    assert render("csv", ["a", "b"], [(1, None)]) == "a,b\n1,"
    assert render("line", ["a", "bb"], [(1, "x")]) == " a = 1\nbb = x"
    assert json.loads(render("json", ["a"], [])) == []
    assert render("table", ["QUERY PLAN"], [("Projection",), ("  Scan",)]) == "Projection\n  Scan"
    assert render("csv", ["explain_key", "explain_value"], [("plan", "a, b\nc\n")]) == 'QUERY PLAN\n"a, b"\nc'
    with pytest.raises(ValueError, match="unknown output mode"):
        render("xml", ["a"], [])


def piped_shell(model: str, mode: str) -> tuple[Shell, io.StringIO]:
    """The CLI's shell writing into a pipe-like stream (not a terminal), in-process: the
    subprocess tests above show that piped output uses the same shell."""
    out = io.StringIO()
    conn = infersql.connect(model=model)
    return Shell(conn, ProgressBar(False), mode, out=out, err=io.StringIO()), out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_piped_parses_as_csv_and_json(path, tiny_model):
    text = path.read_text()        # EXPLAIN too: a one-column QUERY PLAN result in csv/json
    results = sum(s.type.name in ("SELECT", "EXPLAIN") for s in duckdb.extract_statements(text))
    got = {}
    for mode in ("csv", "json"):
        shell, out = piped_shell(tiny_model, mode)
        try:
            assert shell.run_script(text), shell.err.getvalue()
        finally:
            shell.conn.close()
        got[mode] = csv_blocks(out.getvalue()) if mode == "csv" else json_values(out.getvalue())
        assert len(got[mode]) == results, out.getvalue()
    for block, objects in zip(got["csv"], got["json"]):
        header, rows = block[0], block[1:]
        assert len(rows) == len(objects)
        if header == ["QUERY PLAN"]:          # EXPLAIN ANALYZE's timings differ run to run
            continue
        for row, obj in zip(rows, objects):
            assert list(obj) == header
            assert row == ["" if v is None else str(v) for v in obj.values()]


def test_piped_csv_quotes_a_carriage_return():
    """A bare \\r ends a record for CSV readers, so a value holding one must be quoted."""
    p = subprocess.run(CLI + ["-c", "SELECT 'a' || chr(13) || 'b' AS cr, "
                                    "'c' || chr(13) || chr(10) || 'd' AS crlf, 'plain' AS p"],
                       capture_output=True, timeout=180, env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert p.returncode == 0, p.stderr
    assert p.stdout == b'cr,crlf,p\n"a\rb","c\r\nd",plain\n'         # records still end in \n
    rows = list(csv.reader(io.StringIO(p.stdout.decode(), newline="")))
    assert rows == [["cr", "crlf", "p"], ["a\rb", "c\r\nd", "plain"]]


@pytest.mark.parametrize("sql", ["EXPLAIN (FORMAT JSON) SELECT 42",
                                 "EXPLAIN (FORMAT JSON) SELECT LLM('Name it', s) FROM (VALUES ('a')) t(s)"])
@pytest.mark.parametrize("mode", ["--csv", "--json"])
def test_json_explain_piped_is_the_json_document(sql, mode, tmp_path):
    """Piped to a file in csv or json mode, EXPLAIN (FORMAT JSON) is one document json.load reads."""
    target = tmp_path / "plan.json"
    with open(target, "w") as f:
        p = subprocess.run(CLI + [mode, "-c", sql], stdout=f, stderr=subprocess.PIPE, text=True,
                           timeout=180, env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert p.returncode == 0, p.stderr
    with open(target) as f:
        document = json.load(f)
    if "LLM" in sql:                                  # ours: one object
        assert document["scopes"][0]["operators"][0]["call"].startswith("LLM(")
    else:                                             # DuckDB's: a list of operator trees
        assert document[0]["name"] == "PROJECTION"


def test_results_in_a_table_are_set_apart_by_a_blank_line(tiny_model):
    """Example 08's EXPLAIN and EXPLAIN ANALYZE ran together with no line between them."""
    done = subprocess.run([sys.executable, "-m", "infersql.cli", "-m", tiny_model, "--table", "-c",
                           "EXPLAIN SELECT LLM('Hi', 'a'); EXPLAIN SELECT LLM('Hi', 'b')"],
                          capture_output=True, text=True)
    lines = done.stdout.splitlines()
    second = [i for i, line in enumerate(lines) if line.startswith("Query  (")][1]
    assert done.returncode == 0 and lines[second - 1] == ""
