"""Start-up: plain SQL never imports torch or transformers (through the DB-API or the CLI), and
an unusable INFERSQL_HOME falls back to a temporary folder with a warning, not an error."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

from infersql.home import home

HEAVY = ("torch", "transformers")


def _imported(code: str, *args: str) -> set[str]:
    p = subprocess.run([sys.executable, "-X", "importtime", *args, "-c", code] if not args else
                       [sys.executable, "-X", "importtime", *args],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert p.returncode == 0, p.stderr[-2000:]
    names = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    return {n.split(".")[0] for n in names}


def test_plain_sql_through_the_dbapi_imports_no_torch():
    code = ("import infersql; c = infersql.connect(); "
            "assert c.execute('SELECT 1').fetchall() == [(1,)]; "
            "c.execute(\"SELECT 'LLM(' AS not_a_call -- LLM(x)\").fetchall()")
    assert not _imported(code) & set(HEAVY)


def test_plain_sql_through_the_cli_imports_no_torch():
    imported = _imported("", "-m", "infersql.cli", "-c", "CREATE TABLE t AS SELECT 1 AS i; SELECT * FROM t;")
    assert "duckdb" in imported and not imported & set(HEAVY)


def test_threads_option_with_plain_sql_imports_no_torch():
    imported = _imported("", "-m", "infersql.cli", "--threads", "1", "-c", "SELECT 1;")
    assert "duckdb" in imported and not imported & set(HEAVY)


def test_unwritable_home_falls_back_to_a_temporary_folder(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("INFERSQL_HOME", str(blocker / "home"))
    with caplog.at_level(logging.WARNING):
        folder = home()
    assert folder.is_dir() and os.access(folder, os.W_OK) and str(blocker) not in str(folder)
    assert "INFERSQL_HOME" in caplog.text
    monkeypatch.setenv("INFERSQL_HOME", str(tmp_path / "fine"))
    assert home() == tmp_path / "fine" and (tmp_path / "fine").is_dir()


def test_loading_a_model_draws_no_transformers_progress_bars(tiny_model):
    code = (f"import infersql; c = infersql.connect(model={tiny_model!r}); "
            "print(c.execute(\"SELECT LLM('hi', max_tokens := 2) IS NOT NULL\").fetchall())")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[(True,)]"
    assert "Loading weights" not in p.stderr and "it/s" not in p.stderr, p.stderr
