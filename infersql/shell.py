"""The SQL shell behind the ``infersql`` command: reads statements and dot commands, runs
them on one cursor, and prints results in the chosen output mode.

One cursor means one DuckDB session: temporary tables, SET and BEGIN ... COMMIT carry from one
statement to the next, as in any SQL shell. Statements end at a ``;`` found by a small lexer
(``statement_split``), so a ``;`` inside a string does not end one. Errors print one line on
stderr, and the next statement runs, as in the DuckDB and SQLite shells; with ``bail`` on
(``-bail``, ``.bail on``) a script or piped input stops at its first error instead. Interactive
input has line editing and a history file in ``INFERSQL_HOME``.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import time

import infersql

from .dot_commands import QuitShell, run_dot_command
from .home import home
from .output_modes import render
from .progress_bar import ProgressBar
from .statement_split import StatementSplitter
from .threads import set_threads

log = logging.getLogger(__name__)

HISTORY_FILE = "history"
HISTORY_LENGTH = 2000
PROMPT, CONTINUATION = "infersql> ", "     ...> "
_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)


def one_line(error: BaseException) -> str:
    """An error as one line: DuckDB's multi-line parser errors keep their first line and the
    line number they point at."""
    text = str(error).strip() or type(error).__name__
    first = text.splitlines()[0]
    where = _LINE.search(text)
    return f"{first} (at line {where.group(1)})" if where and first != text else first


def timer_line(seconds: float, stats) -> str:
    """What ``.timer on`` prints after a statement: wall time, and the LLM work when any."""
    line = f"Run Time: {seconds:.3f} s"
    if stats is None:
        return line
    return (f"{line} · LLM calls {stats.llm_calls:,} · cache hits {stats.cache_hits:,} · "
            f"tokens: prompt {stats.prompt_tokens:,}, cached {stats.cached_tokens:,}, "
            f"prefilled {stats.prefilled_tokens:,}, decoded {stats.decoded_tokens:,} · "
            f"preemptions {stats.preemptions:,} · evictions {stats.evictions:,}")


def _changes_rows(sql: str) -> bool:
    """Whether to say how many rows a statement without a result changed: INSERT, UPDATE,
    DELETE and MERGE do; CREATE TABLE ... AS does not, as in the DuckDB shell. The leading
    keyword decides: parsing a bulk INSERT again would cost as much as running it."""
    m = _KEYWORD.match(sql)
    return bool(m) and m.group(1).upper() != "CREATE"


_KEYWORD = re.compile(r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*([A-Za-z]+)", re.DOTALL)


class Shell:
    """``connect(database)`` opens a database for ``.open`` with the CLI's options."""

    def __init__(self, conn: infersql.Connection, progress: ProgressBar, mode: str,
                 out=None, err=None, connect=infersql.connect) -> None:
        self.progress = progress
        self.mode = mode
        self.timer = False
        self.bail = False             # stop a script or piped input at its first error
        self.failures = 0             # statements and dot commands that failed
        self.threads: int | None = None          # None: DuckDB's and torch's defaults
        self.stdout = out or sys.stdout
        self.out = self.stdout        # .output FILE points it at a file
        self.err = err or sys.stderr
        self.connect = connect
        self._splitter = StatementSplitter()
        self._results = 0             # results printed, to separate the next one
        self._use(conn)

    def _use(self, conn: infersql.Connection) -> None:
        self.conn = conn
        conn.runtime.listeners.append(self.progress)
        self.cursor = conn.cursor()
        if self.threads is not None:
            self.set_threads(self.threads)

    def open(self, database: str) -> None:
        """Leave this database for another (``.open``); the old one stays if it fails."""
        conn = self.connect(database)
        old, self._results = self.conn, 0
        self._use(conn)
        old.close()

    def set_threads(self, n: int) -> None:
        """Threads for DuckDB (this database) and for torch's model inference."""
        set_threads(self.cursor, n)
        self.threads = n

    def write_to(self, path: str | None) -> None:
        """Send results to a file (``.output FILE``), or back to stdout (None)."""
        target = self.stdout if path is None else open(path, "w", encoding="utf-8")
        if self.out is not self.stdout:
            self.out.close()
        self.out, self._results = target, 0

    def close(self) -> None:
        self.write_to(None)
        self.conn.close()

    # ---- output ---------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def error(self, message: str) -> None:
        print(f"Error: {message}", file=self.err, flush=True)

    def _width(self) -> int | None:
        """The terminal's width when results go to one; None (whole values) otherwise."""
        try:
            return os.get_terminal_size(self.out.fileno()).columns if self.out.isatty() else None
        except (OSError, ValueError, AttributeError):
            return None

    def query(self, sql: str, parameters=None) -> list[tuple]:
        """Rows of an internal query (dot commands), on the shell's own session."""
        return self.cursor.execute(sql, parameters).fetchall()

    # ---- running --------------------------------------------------------------------------
    def run_script(self, text: str, bail: bool | None = None) -> bool:
        """Run every statement and dot command in ``text``; False if any failed. After an
        error the next statement runs, unless ``bail`` (default: the shell's) stops it."""
        if bail is not None:
            saved_bail, self.bail = self.bail, bail
            try:
                return self.run_script(text)
            finally:
                self.bail = saved_bail
        saved, self._splitter = self._splitter, StatementSplitter()
        ok = True
        try:
            for line in text.splitlines():
                ok = self.feed(line) and ok
                if not ok and self.bail:
                    return False
            rest = self._splitter.rest()
            return (self.statement(rest) if rest else True) and ok   # a final one without ';'
        finally:
            self._splitter = saved

    def feed(self, line: str) -> bool:
        """One line of input: a dot command at a statement's start, else SQL that runs once
        its statement is complete. False if something failed (counted in ``failures``)."""
        if line.lstrip().startswith(".") and not self.pending:
            self._splitter.reset()
            ok = run_dot_command(self, line)
            self.failures += not ok
            return ok
        ok = True
        for sql in self._splitter.feed(line):
            ok = self.statement(sql) and ok
            if not ok and self.bail:
                break
        return ok

    @property
    def pending(self) -> bool:
        """Whether an unfinished statement waits for more lines."""
        return bool(self._splitter.rest())

    def statement(self, sql: str) -> bool:
        cur = self.cursor
        started = time.perf_counter()
        try:
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else None
        except infersql.Error as error:
            self.progress.close()
            self.error(one_line(error))
            self.failures += 1
            return False
        except KeyboardInterrupt:
            self.progress.close()
            done = getattr(getattr(self.conn.runtime, "progress", None), "rows_done", 0)
            print(f"Cancelled. {done} LLM results finished before the interrupt are kept in "
                  "the result cache; re-running the statement reuses them.", file=self.err,
                  flush=True)
            raise
        self.progress.close()
        elapsed = time.perf_counter() - started
        if rows is not None:
            if self._results:
                self.say("")          # results apart: parseable, and two plans not run together
            self.say(render(self.mode, [d[0] for d in cur.description], rows, self._width()))
            self._results += 1
        elif cur.rowcount >= 0 and self.mode in ("table", "line") and _changes_rows(sql):
            self.say(f"({cur.rowcount} row{'s' if cur.rowcount != 1 else ''} changed)")
        if self.timer:
            print(timer_line(elapsed, getattr(cur, "stats", None)), file=self.err, flush=True)
        return True

    # ---- interactive ----------------------------------------------------------------------
    def interactive(self) -> bool:
        """Read lines until .quit or end of input; Ctrl-C drops the unfinished statement (or
        cancels a running one) and keeps the shell. Piped input stops at an error with
        ``bail`` on, and is False if any statement failed; a person's session is True."""
        terminal = sys.stdin.isatty()
        history = _history() if terminal else None
        if terminal:
            print("InferSQL shell: end statements with ';'. .help lists the commands.",
                  file=self.err)
        while True:
            try:
                line = input((CONTINUATION if self.pending else PROMPT) if terminal else "")
            except EOFError:
                if terminal:
                    print(file=self.err)
                break
            except KeyboardInterrupt:
                print(file=self.err)
                self._splitter.reset()
                continue
            if history:
                history.append()
            try:
                if not self.feed(line) and self.bail and not terminal:
                    return False
            except KeyboardInterrupt:
                self._splitter.reset()
            except QuitShell:
                break
        rest = self._splitter.rest()
        if rest:                               # input ended without a final ';'
            self._splitter.reset()
            self.statement(rest)
        return terminal or not self.failures


class _History:
    """readline's history, read from and appended to ``INFERSQL_HOME/history`` line by line,
    so history survives a killed shell."""

    def __init__(self, readline, path) -> None:
        self.readline, self.path = readline, path

    def append(self) -> None:
        try:
            self.readline.append_history_file(1, self.path)
        except OSError as error:
            log.debug("cannot write history %s: %s", self.path, error)


def _history() -> _History | None:
    try:
        import readline
    except ImportError:            # not on every platform; the shell works without it
        return None
    path = str(home() / HISTORY_FILE)
    readline.set_history_length(HISTORY_LENGTH)
    try:
        readline.read_history_file(path)
    except OSError:
        open(path, "a").close()
    return _History(readline, path)
