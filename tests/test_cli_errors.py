"""How the ``infersql`` command goes on after an error, as the DuckDB shell does: -c stops at
its first error; a .sql file and piped input report each error and run the next statement,
unless -bail stops them; the exit status says whether anything failed. And a reader that
stops reading (``| head``) ends the command quietly."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "infersql.cli"]
SCRIPT = "SELECT 1 AS one;\nSELECT * FROM missing;\nSELECT 3 AS three;\n"
MISSING = "Error: Catalog Error: Table with name missing does not exist!"


def run(args, stdin=None):
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=os.getcwd()))


@pytest.mark.parametrize("bail", [[], ["-bail"], ["--bail"]])
def test_command_stops_at_its_first_error_and_says_so(bail):
    p = run(bail + ["-c", SCRIPT.replace("\n", " ")])
    assert p.returncode == 1
    assert p.stdout == "one\n1\n" and p.stderr.startswith(MISSING) and p.stderr.count("\n") == 1


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_script_reports_each_error_goes_on_and_fails(how, tmp_path):
    script = tmp_path / "s.sql"
    script.write_text(SCRIPT + "SELECT * FROM missing_too;\n")
    p = run([str(script)]) if how == "file" else run([], stdin=script.read_text())
    assert p.returncode == 1
    assert p.stdout == "one\n1\n\nthree\n3\n"
    assert len(p.stderr.splitlines()) == 2 and "missing_too" in p.stderr


@pytest.mark.parametrize("how", ["file", "stdin", "dot command"])
def test_bail_stops_a_script_at_its_first_error(how, tmp_path):
    script = tmp_path / "s.sql"
    script.write_text(SCRIPT)
    if how == "file":
        p = run(["-bail", str(script)])
    elif how == "stdin":
        p = run(["--bail"], stdin=SCRIPT)
    else:
        p = run([], stdin=".bail on\n" + SCRIPT)
    assert p.returncode == 1
    assert p.stdout == "one\n1\n" and p.stderr.startswith(MISSING) and len(p.stderr.splitlines()) == 1


def test_several_statements_on_one_line_go_on_after_an_error():
    p = run([], stdin=SCRIPT.replace("\n", " ") + "\n")
    assert p.returncode == 1 and p.stdout == "one\n1\n\nthree\n3\n"


def test_a_script_without_errors_exits_0():
    p = run([], stdin="SELECT 1 AS one;\n")
    assert p.returncode == 0 and p.stderr == ""


def test_reader_that_stops_reading_ends_the_command_quietly():
    """As ``cat`` does under ``| head``: no error message, SIGPIPE's exit status."""
    cli = subprocess.Popen(CLI + ["-c", "SELECT range AS i FROM range(2000000)"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(os.environ, PYTHONPATH=os.getcwd()))
    head = subprocess.run(["head", "-1"], stdin=cli.stdout, capture_output=True, timeout=120)
    cli.stdout.close()                  # only head holds the read end now
    err = cli.stderr.read().decode()
    cli.wait(timeout=120)
    assert head.stdout == b"i\n"
    assert err == "" and cli.returncode == 141
