"""The PEP 249 cursor. Each cursor owns its own DuckDB connection to the shared database, so
cursors can run in different threads at the same time."""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import duckdb

from executor.statement import prefetch, run_statement
from executor.statement_stats import StatementStats
from optimizer import mentions_llm, plan_statement
from optimizer.parameters import inline_call_parameters
from optimizer.planner import StatementPlanner, prefetch_inputs

from . import exceptions as exc


_PLACEHOLDERS = ([("Count", "BIGINT")], [("Success", "BOOLEAN")])
_ROW_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "EXECUTE", "RELATION", "LOGICAL_PLAN"}


def returns_no_rows(description, rowcount: int, operation: str) -> bool:
    """Whether a DuckDB result is the placeholder of a statement that returns no rows (DDL,
    DML, SET, BEGIN ...). The columns are tested first; DuckDB counts rows changed only for
    DML, so ``Count`` with a row count settles it without parsing (a bulk INSERT of megabytes
    takes seconds to parse again). Only the remaining matches, which a query could produce too
    (``SELECT count(*) AS "Count"``), parse the statement's type."""
    if not description or [(d[0], str(d[1])) for d in description] not in _PLACEHOLDERS:
        return False
    if rowcount >= 0:
        return True
    try:
        statements = duckdb.extract_statements(operation)
    except duckdb.Error:
        return False
    return bool(statements) and statements[-1].type.name not in _ROW_STATEMENTS


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
        self.stats = None               # executor.statement_stats.StatementStats
        self._operation = ""          # the statement text, to tell a placeholder result

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
        return self._execute(operation, parameters, self.connection.optimize)

    def _execute(self, operation: str, parameters, optimize: bool):
        """``execute``; ``optimize=False`` runs every LLM call lazily (see ``executemany``)."""
        started = time.perf_counter()           # EXPLAIN ANALYZE's timing counts the parse
        con = self._open()
        if not isinstance(operation, str):
            raise exc.ProgrammingError(f"SQL must be a str, got {type(operation).__name__}")
        self._rows, self._pos, self.description, self.rowcount = None, 0, None, -1
        self.stats = None               # the LLM work of this statement, once it ran
        try:
            # PEP 249: a new statement replaces the last result. DuckDB 2.0 refuses new work
            # (registering a UDF too) while a query's rows are unread, so drop them first;
            # writes are complete by then, so this loses nothing.
            con.abort()
            self._operation = operation
            if not mentions_llm(operation):
                self._run_plain(con, operation, parameters)
                return self
            operation, parameters = inline_call_parameters(operation, parameters)
            statements = [s.query for s in duckdb.extract_statements(operation)]
            if len(statements) > 1 and parameters:
                raise exc.ProgrammingError("parameters are only allowed with a single statement")
            for i, sql in enumerate(statements):
                if i:
                    con.abort()             # the last result is the one kept
                    started = time.perf_counter()
                self._run_llm_statement(con, sql, parameters, optimize, started)
        except BaseException as error:
            translated = exc.translate(error)
            if translated is not error:
                raise translated from error
            if isinstance(error, Exception) and not isinstance(error, exc.Error):
                # Not an error of the query's: a bug, said plainly, in PEP 249's terms.
                raise exc.InternalError(f"internal error ({type(error).__name__}: {error}) "
                                        f"while running: {operation.strip()[:200]}") from error
            raise                                 # KeyboardInterrupt, SystemExit
        return self

    def _run_plain(self, con, sql: str, parameters) -> None:
        """SQL without LLM calls: DuckDB's own, unchanged, with its result streamed."""
        con.execute(sql, parameters)
        self._take(con, materialize=False)

    def _run_llm_statement(self, con, sql: str, parameters, optimize: bool,
                           started: float) -> None:
        planned = plan_statement(sql) if mentions_llm(sql) else None
        if planned is None or not planned.udfs:   # not every statement of a script has calls
            self._run_plain(con, sql, parameters)
            return
        conn = self.connection
        planner = StatementPlanner(con, conn.runtime, planned, sql, parameters,
                                   optimize=optimize, reorder_fields=conn.reorder_fields,
                                   feedback=conn.feedback)
        run_statement(con, conn.runtime, planner, self, started)

    # ---- the executor's result sink (executor.statement.ResultSink) -------------------------
    def take_result(self, con) -> None:
        """The LLM statement's result, read to the end (its UDFs go when it returns)."""
        self._take(con, materialize=True)

    def take_stats(self, stats) -> None:
        self.stats = stats

    def _take(self, con, materialize: bool) -> None:
        """Take the statement's result. DuckDB knows the row count of INSERT, UPDATE and
        DELETE (PEP 249: rows affected); for a query it is known once the rows are read.
        A statement that returns no rows has no description (PEP 249), where DuckDB shows a
        placeholder column (``Count`` or ``Success``)."""
        self.rowcount = con.rowcount
        if returns_no_rows(con.description, self.rowcount, getattr(self, "_operation", "")):
            self.description, self._rows = None, None
            con.abort()                      # the placeholder's rows are not a result
            return
        self.description = con.description
        self._rows = (con.fetchall() if con.description else []) if materialize else None
        if self.rowcount < 0 and materialize and con.description:
            self.rowcount = len(self._rows)

    def executemany(self, operation: str, seq_of_parameters: Iterable):
        """Run ``operation`` once per parameter set; rowcount is the total of rows affected
        (-1 when DuckDB does not know it for some statement). Without LLM calls DuckDB runs
        them all itself, preparing the statement once."""
        con = self._open()
        if isinstance(operation, str) and not mentions_llm(operation):
            self._rows, self._pos, self.description, self.rowcount = None, 0, None, -1
            try:
                con.abort()
                con.executemany(operation, list(seq_of_parameters))
            except duckdb.Error as error:
                raise exc.translate(error) from error
            self.rowcount = con.rowcount
            con.abort()
            return self
        seq_of_parameters = list(seq_of_parameters)
        optimize, work = self.connection.optimize, StatementStats()
        if isinstance(operation, str) and len(seq_of_parameters) > 1 and optimize:
            try:                       # one engine batch for every row's prompts
                inputs = prefetch_inputs(operation, seq_of_parameters)
                work = prefetch(con, self.connection.runtime, inputs)
            except BaseException as error:
                translated = exc.translate(error)
                raise translated from error if translated is not error else error
            # Their answers are cached now: planning each statement would only find that out
            # again, at some 15 ms a statement, so they run unplanned (same answers).
            optimize = not inputs
        total = 0
        # The statements read every answer from the cache, the batch's own too: a prompt the
        # batch inferred is a call, not a hit, and the batch's lookups are its statements'.
        hits, work.cache_hits = -work.llm_calls, 0
        for params in seq_of_parameters:
            self._execute(operation, params, optimize)
            total = -1 if total < 0 or self.rowcount < 0 else total + self.rowcount
            if self.stats is not None:
                work.add(self.stats)
        work.cache_hits = max(work.cache_hits + hits, 0)
        self._rows, self.description, self.rowcount, self.stats = None, None, total, work
        return self

    # ---- fetching -------------------------------------------------------------------------
    def _check_result(self) -> None:
        self._open()
        if self.description is None:
            raise exc.ProgrammingError("no result set: the last statement returned no rows")

    @staticmethod
    def _stream(fetch, *args):
        """Read from DuckDB's streaming result: a query can still fail while its rows are
        produced, and that error must reach the caller as PEP 249's too."""
        try:
            return fetch(*args)
        except duckdb.Error as error:
            raise exc.translate(error) from error

    def fetchone(self):
        self._check_result()
        if self._rows is None:
            return self._stream(self._con.fetchone)
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        self._check_result()
        size = self.arraysize if size is None else size
        if self._rows is None:
            return self._stream(self._con.fetchmany, size)
        chunk = self._rows[self._pos:self._pos + size]
        self._pos += len(chunk)
        return chunk

    def fetchall(self) -> list[tuple]:
        self._check_result()
        if self._rows is None:
            return self._stream(self._con.fetchall)
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
