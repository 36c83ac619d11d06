"""The dot commands a DuckDB or psql user reaches for in the first hour: .model (which model,
with what engine settings), .cache and .cache clear (the result cache), .output FILE, .open
FILE, .show, .bail and .threads N. Runs the shell in-process on streams."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

import infersql
from infersql.progress_bar import ProgressBar
from infersql.shell import Shell


def make_shell(database=":memory:", **options) -> Shell:
    def connect(db):
        return infersql.connect(db, **options)

    return Shell(connect(database), ProgressBar(False), "csv", out=io.StringIO(),
                 err=io.StringIO(), connect=connect)


def feed(sh: Shell, *lines: str) -> tuple[str, str]:
    """What the lines print on stdout and stderr (the shell's own streams, not a .output)."""
    for line in lines:
        sh.feed(line)
    out, err = sh.stdout.getvalue(), sh.err.getvalue()
    for stream in (sh.stdout, sh.err):
        stream.seek(0), stream.truncate()
    return out, err


@pytest.fixture
def shell():
    sh = make_shell()
    yield sh
    sh.close()


def test_model_names_the_default_model_and_its_engine_settings(tiny_model):
    sh = make_shell(model=tiny_model, max_num_seqs=7)
    try:
        out, err = feed(sh, ".model")
        assert err == ""
        lines = out.splitlines()
        assert lines[0] == f"model: {tiny_model}" and lines[1] == f"folder: {tiny_model}"
        assert lines[2].startswith("loaded: no")
        assert "  max_num_seqs = 7" in lines and "  device = cpu" in lines
        feed(sh, "SELECT LLM('hi', max_tokens := 2) IS NOT NULL AS ok;")
        assert "loaded: yes" in feed(sh, ".model")[0]
    finally:
        sh.close()


def test_model_of_a_fresh_database_is_the_builtin_one(shell):
    out, _ = feed(shell, ".model")
    assert out.startswith("model: built-in\nfolder: ") and "builtin_model" in out


def test_cache_counts_and_clears_cached_answers(tiny_model, tmp_path):
    sh = make_shell(str(tmp_path / "c.duckdb"), model=tiny_model)
    try:
        assert feed(sh, ".cache") == ("0 cached LLM answers\n", "")
        feed(sh, "SELECT LLM('Name a colour for', s, max_tokens := 2) FROM (VALUES ('a'), ('b')) t(s);")
        assert feed(sh, ".cache") == ("2 cached LLM answers\n", "")
        assert feed(sh, ".cache clear") == ("cleared 2 cached LLM answers\n", "")
        assert sh.conn.catalog.cache_size() == 0
        assert feed(sh, ".cache") == ("0 cached LLM answers\n", "")
        assert "use .cache" in feed(sh, ".cache everything")[1]
    finally:
        sh.close()


def test_output_sends_results_to_a_file_and_back(shell, tmp_path):
    target = tmp_path / "out.csv"
    out, err = feed(shell, f".output {target}", "SELECT 1 AS a;", "SELECT 2 AS b;", ".output",
                    "SELECT 3 AS c;")
    assert target.read_text() == "a\n1\n\nb\n2\n"
    assert out == "c\n3\n" and err == ""
    _, err = feed(shell, f".output {tmp_path / 'no' / 'such' / 'dir.csv'}")
    assert err.startswith("Error: cannot write")


def test_open_switches_to_another_database(shell, tmp_path):
    other = tmp_path / "other.duckdb"
    with infersql.connect(str(other)) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 41 AS x")
    feed(shell, "CREATE TABLE here (i INTEGER);")
    out, err = feed(shell, f".open {other}", ".tables", "SELECT x + 1 AS y FROM kept;")
    assert (out, err) == ("kept\ny\n42\n", "")
    assert shell.conn.database == str(other)
    _, err = feed(shell, f".open {tmp_path / 'a-file.txt' / 'db'}")
    assert err.startswith("Error: ") and shell.conn.database == str(other)   # still open


@pytest.fixture
def threads_restored(monkeypatch):
    """.threads changes torch's threads (or OMP_NUM_THREADS before torch loads) for the whole
    process: put both back for the tests that follow."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    yield
    if torch is not None:
        torch.set_num_threads(before)


def test_show_bail_and_threads(shell, tmp_path, threads_restored):
    feed(shell, ".mode json", ".bail on", ".timer on", ".threads 1", f".output {tmp_path / 'x'}")
    out, err = feed(shell, ".output", ".show")
    assert err == ""
    settings = dict(line.strip().split(": ", 1) for line in out.splitlines())
    assert settings == {"database": ":memory:", "model": "built-in", "mode": "json",
                        "output": "stdout", "bail": "on", "timer": "on", "threads": "1"}
    feed(shell, ".bail off", ".threads 2")
    out, _ = feed(shell, ".show")
    assert "bail: off" in out and "threads: 2" in out
    assert "use .threads N" in feed(shell, ".threads 0")[1]
    assert "use .bail on or .bail off" in feed(shell, ".bail maybe")[1]


def test_threads_set_torch_threads(shell):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        feed(shell, ".threads 1")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_threads_before_torch_loads_reach_it_without_importing_it():
    """--threads with plain SQL imports no torch, yet torch uses N once an LLM call loads it."""
    code = ("import sys; from infersql.threads import set_torch_threads; set_torch_threads(1); "
            "assert 'torch' not in sys.modules; import torch; print(torch.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env=dict(env, PYTHONPATH=os.getcwd()))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1"


def test_threads_option_sets_duckdb_threads():
    p = subprocess.run([sys.executable, "-m", "infersql.cli", "--threads", "1", "-c",
                        "SELECT current_setting('threads') AS t"], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "t\n1\n"


def test_help_lists_the_new_commands(shell):
    out, _ = feed(shell, ".help")
    for command in (".model", ".cache", ".output", ".open", ".show", ".bail", ".threads"):
        assert f"\n{command} " in out
