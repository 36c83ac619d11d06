"""The PEP 249 cursor. Each cursor owns its own DuckDB connection to the shared database, so
cursors can run in different threads at the same time."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import threading

import duckdb

from executor.errors import BadCallError, QueryCancelled
from optimizer import mentions_llm, plan_statement

from . import exceptions as exc
from .functions import UDFErrors, registered


def _interruptible(work, cancel) -> None:
    """Run ``work`` in a worker thread while this thread waits in Python, so Ctrl-C arrives
    here (DuckDB would otherwise hold it until the query ends); then ``cancel`` the work,
    wait for it to wind down, and re-raise. (DuckDB refuses ``interrupt()`` from another
    thread while the connection is busy, so cancelling goes through the LLM runtime: the
    engine stops within one iteration and the UDF's error ends the query.)"""
    outcome: list = []
    finished = threading.Event()      # not Thread.join: an interrupted join can wrongly
                                      # report the thread as stopped (CPython 3.11)

    def run() -> None:
        try:
            work()
            outcome.append(None)
        except BaseException as error:      # handed to the waiting thread
            outcome.append(error)
        finally:
            finished.set()

    threading.Thread(target=run, name="infersql-statement", daemon=True).start()
    try:
        while not finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        cancel()
        while not finished.wait(0.1):
            pass
        raise
    if outcome[0] is not None:
        raise outcome[0]


class Cursor:
    arraysize = 1

    def __init__(self, connection) -> None:
        self.connection = connection
        self._con: duckdb.DuckDBPyConnection | None = connection._db.cursor()
        self._rows: list[tuple] | None = None
        self._pos = 0
        self.description = None
        self.rowcount = -1
        self.arraysize = 1

    # ---- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._rows = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self._con is None or self.connection.closed:
            raise exc.InterfaceError("cursor is closed")
        return self._con

    # ---- execution ------------------------------------------------------------------------
    def execute(self, operation: str, parameters: Sequence | dict | None = None):
        """Run one SQL statement (or several separated by ';', keeping the last result)."""
        con = self._open()
        if not isinstance(operation, str):
            raise exc.ProgrammingError(f"SQL must be a str, got {type(operation).__name__}")
        self._rows, self._pos, self.description, self.rowcount = None, 0, None, -1
        try:
            if not mentions_llm(operation):
                con.execute(operation, parameters)
                self._capture(con, materialize=False)
                return self
            statements = [s.query for s in duckdb.extract_statements(operation)]
            if len(statements) > 1 and parameters:
                raise exc.ProgrammingError("parameters are only allowed with a single statement")
            for sql in statements:
                self._run_llm_statement(con, sql, parameters)
        except BaseException as error:
            raise exc.translate(error) from (error if error is not exc.translate(error) else None)
        return self

    def _run_llm_statement(self, con, sql: str, parameters) -> None:
        if not mentions_llm(sql):
            con.execute(sql, parameters)
            self._capture(con, materialize=False)
            return
        planned = plan_statement(sql)
        runtime = self.connection.runtime
        for _, call, _ in planned.udfs:       # unknown models fail before any work starts
            try:
                runtime.resolve(call.model)
            except BadCallError as error:
                raise BadCallError(f"{call.sql}: {error}") from error
        runtime.begin_statement()
        errors = UDFErrors()
        with registered(con, runtime, planned.udfs, errors):
            try:
                # Results are read now: the statement's UDFs exist only inside this block.
                _interruptible(lambda: (con.execute(planned.sql, parameters),
                                        self._capture(con, materialize=True)),
                               runtime.cancel.set)
            except duckdb.Error:
                if isinstance(errors.first, QueryCancelled):
                    raise KeyboardInterrupt from errors.first
                if errors.first is not None:
                    raise errors.first
                raise

    def _capture(self, con, materialize: bool) -> None:
        self.description = con.description
        if materialize:
            self._rows = con.fetchall() if con.description else []
            self.rowcount = len(self._rows) if con.description else -1
        else:
            self._rows = None
            self.rowcount = -1

    def executemany(self, operation: str, seq_of_parameters: Iterable):
        for params in seq_of_parameters:
            self.execute(operation, params)
        self._rows, self.description = None, None
        return self

    # ---- fetching -------------------------------------------------------------------------
    def _check_result(self) -> None:
        self._open()
        if self.description is None:
            raise exc.ProgrammingError("no result set: the last statement returned no rows")

    def fetchone(self):
        self._check_result()
        if self._rows is None:
            return self._con.fetchone()
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        self._check_result()
        size = self.arraysize if size is None else size
        if self._rows is None:
            return self._con.fetchmany(size)
        chunk = self._rows[self._pos:self._pos + size]
        self._pos += len(chunk)
        return chunk

    def fetchall(self) -> list[tuple]:
        self._check_result()
        if self._rows is None:
            return self._con.fetchall()
        rest = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rest

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row

    def setinputsizes(self, sizes) -> None:
        """PEP 249: a no-op here, as DuckDB binds parameter types itself."""

    def setoutputsize(self, size, column=None) -> None:
        """PEP 249: a no-op here."""
