"""The interactive shell in a real pseudo-terminal, as a person uses it: typing with history
(Up recalls the last line), a dot command, a long generation whose progress line moves at
least once a second with an ETA within 2x of the real remaining time once 10% is done, and
Ctrl-C that cancels a generation and leaves the shell usable."""
from __future__ import annotations

import os
import re
import signal
import sys
import time

import pytest

import infersql

pexpect = pytest.importorskip("pexpect")

PROMPT = "infersql> "
FRAME = re.compile(r"LLM\s+(\d+)%.*?\s(\d+)/(\d+) rows .*? ([\d,]+)(?:/[\d,]+)? tok .*?ETA (\d+):(\d+)")
UP = "\x1b[A"


@pytest.fixture
def shell(tiny_model, tmp_path):
    db = str(tmp_path / "pty.duckdb")
    with infersql.connect(db) as conn:
        conn.execute("CREATE TABLE stories AS SELECT range AS i, 'tale ' || range AS s FROM range(64)")
        # A few sequences at a time: the statement runs for several seconds, rows finish in
        # waves, and the tiny random model rarely stops before max_tokens.
        conn.register_model("narrow", tiny_model, default=True, max_num_seqs=4)
    # One torch thread: on a busy 2-core machine two spinning OpenMP threads made this tiny
    # model's iterations 20x slower, and the timing checks below are about the shell.
    env = dict(os.environ, PYTHONPATH=os.getcwd(), INFERSQL_HOME=str(tmp_path / "home"),
               TERM="xterm", OMP_NUM_THREADS="1")
    # Under nohup (or a shell without job control) pytest starts with SIGINT ignored, and a
    # child keeps an ignored SIGINT ignored: give the shell the default, as a terminal would.
    child = pexpect.spawn(sys.executable, ["-m", "infersql.cli", db], env=env,
                          encoding="utf-8", dimensions=(40, 200), timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    child.expect_exact(PROMPT)
    yield child, tmp_path
    if child.isalive():
        child.terminate(force=True)


def _watch(child, until: str, seconds: float) -> tuple[list[tuple[float, str]], float]:
    """Everything the terminal shows until ``until`` appears, as (arrival time, text)."""
    chunks, text, deadline = [], "", time.monotonic() + seconds
    while until not in text:
        assert time.monotonic() < deadline, text[-2000:]
        try:
            chunk = child.read_nonblocking(65536, timeout=0.05)
        except pexpect.TIMEOUT:
            continue
        chunks.append((time.monotonic(), chunk))
        text += chunk
    return chunks, time.monotonic()


def _frames(chunks: list[tuple[float, str]]) -> list[tuple[float, int, int, float]]:
    """(time, percent, tokens, ETA seconds) of every progress frame drawn."""
    out = []
    for at, chunk in chunks:
        for m in FRAME.finditer(chunk):
            out.append((at, int(m.group(1)), int(m.group(4).replace(",", "")),
                        60 * int(m.group(5)) + int(m.group(6))))
    return out


def test_history_dot_command_progress_and_ctrl_c(shell):
    child, tmp_path = shell
    child.sendline("SELECT 40 + 2 AS answer;")
    child.expect(r"\b42\b")
    child.expect_exact(PROMPT)
    child.send(UP + "\r")                                  # the line comes back from history
    child.expect_exact("SELECT 40 + 2 AS answer;")
    child.expect(r"\b42\b")
    child.expect_exact(PROMPT)

    child.sendline("SELECT repeat('x', 500) AS wide, 'a' || chr(13) || 'b' AS cr;")
    child.expect_exact(PROMPT)
    table = child.before.split("\r\n")[1:]                # the lines after the echoed input
    assert any("…" in line for line in table) and "a\\rb" in child.before
    assert max(len(line) for line in table) <= 200          # the terminal is 200 columns wide

    child.sendline(".tables")
    child.expect(r"stories\r\n")
    assert "llm_cache" not in child.before + child.after
    child.expect_exact(PROMPT)

    started = time.monotonic()
    child.sendline("SELECT count(LLM('Tell a long story about', s, max_tokens := 150)) AS n "
                   "FROM stories;")
    chunks, ended = _watch(child, PROMPT, 120)
    shown = "".join(c for _, c in chunks)
    assert re.search(r"\b64\b", shown), shown[-500:]
    assert "Loading model" in shown and "Loading weights" not in shown
    frames = _frames(chunks)
    assert len(frames) >= 3, shown[-1000:]
    moved = [frames[0][0]] + [b[0] for a, b in zip(frames, frames[1:]) if b[2] > a[2]]
    gaps = [b - a for a, b in zip(moved, moved[1:])]
    assert moved[0] - started < 30 and max(gaps, default=0) <= 1.0, gaps
    at, percent, _, eta = next(f for f in frames if f[1] >= 10)
    remaining = ended - at
    assert remaining / 2 <= eta <= remaining * 2 + 1, (percent, eta, remaining)

    child.sendline("SELECT count(LLM('Write an endless saga about', s, max_tokens := 400)) "
                   "FROM stories;")
    child.expect(FRAME)
    child.sendintr()
    child.expect_exact("Cancelled")
    child.expect_exact(PROMPT)
    child.sendline("SELECT 'still here' AS s;")
    child.expect_exact("still here")
    child.expect_exact(PROMPT)
    child.sendline(".quit")
    child.expect(pexpect.EOF)
    history = (tmp_path / "home" / "history").read_text()
    assert "SELECT 40 + 2 AS answer;" in history and ".tables" in history
