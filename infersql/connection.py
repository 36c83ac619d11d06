"""``infersql.connect()``: a PEP 249 connection to a DuckDB database that can run LLM calls.

The connection owns the DuckDB database, the catalog stored in it, and the LLM runtime (one
engine per model, loaded on first use). Statements without LLM calls go to DuckDB unchanged.
"""
from __future__ import annotations

import logging
import os
import threading
import weakref

import duckdb

from catalog import Catalog
from executor.llm_runtime import LLMRuntime

from . import exceptions as exc
from .cursor import Cursor
from .demo_model import default_model_path

log = logging.getLogger(__name__)


def _builtin_model() -> str:
    log.warning("no model given: using the built-in demo model, a tiny RANDOM model whose "
                "answers are noise. Pass model='/path/to/hf-folder' for real answers.")
    return str(default_model_path())


class Connection:
    # PEP 249 optional extension: the exception classes as connection attributes.
    Warning, Error, InterfaceError, DatabaseError = exc.Warning, exc.Error, exc.InterfaceError, exc.DatabaseError
    DataError, OperationalError, IntegrityError = exc.DataError, exc.OperationalError, exc.IntegrityError
    InternalError, ProgrammingError, NotSupportedError = exc.InternalError, exc.ProgrammingError, exc.NotSupportedError

    def __init__(self, database: str = ":memory:", model: str | None = None, *,
                 optimize: bool = True, reorder_fields: bool = False, **engine_options) -> None:
        self.optimize = bool(optimize)              # False: every call runs the lazy UDF path
        self.reorder_fields = bool(reorder_fields)  # True: field_order := 'auto' on every call
        try:
            self._db = duckdb.connect(database)
        except duckdb.Error as error:
            raise exc.translate(error) from error
        self.database = database
        self.catalog = Catalog(self._db)
        self.runtime = LLMRuntime(self.catalog, model, _builtin_model, engine_options)
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()
        self._session = threading.local()       # each thread's cursor for execute()
        self.closed = False

    # ---- PEP 249 --------------------------------------------------------------------------
    def cursor(self) -> Cursor:
        self._check()
        cur = Cursor(self)
        self._cursors.add(cur)
        return cur

    def commit(self) -> None:
        """Commit the transaction open on any of this connection's cursors. DuckDB runs in
        autocommit mode unless a transaction was begun, so often there is none: a no-op."""
        self._finish("commit")

    def rollback(self) -> None:
        """Roll back the transaction open on any of this connection's cursors."""
        self._finish("rollback")

    def _finish(self, how: str) -> None:
        self._check()
        for con in [self._db] + [c._con for c in list(self._cursors) if c._con is not None]:
            try:
                getattr(con, how)()
            except duckdb.TransactionException:
                pass            # no transaction open on that one
            except duckdb.Error as error:
                raise exc.translate(error) from error

    def close(self) -> None:
        if not self.closed:
            self.catalog.close()
            self._db.close()
            self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb) -> None:
        if exc_type is None:
            self.commit()
        self.close()

    def _check(self) -> None:
        if self.closed:
            raise exc.InterfaceError("connection is closed")

    # ---- conveniences ---------------------------------------------------------------------
    def execute(self, operation: str, parameters=None) -> Cursor:
        """Shortcut, as in DuckDB's own API: run ``operation`` on this thread's session cursor
        and return it. The calls of one thread share one DuckDB session, so temporary tables,
        SET options and an open transaction carry over from call to call; each call replaces
        the previous call's result. Other threads get sessions of their own."""
        self._check()
        cur = getattr(self._session, "cursor", None)
        if cur is None or cur._con is None:
            cur = self._session.cursor = self.cursor()
        return cur.execute(operation, parameters)

    @property
    def engine(self):
        """The engine of the default model (loaded on first use); ``engine.stats`` counts
        every inference this connection made with it."""
        try:
            return self.runtime.engine(None)
        except Exception as error:
            raise exc.translate(error) from error

    def register_model(self, name: str, path: str, default: bool = False, **engine_options) -> None:
        """Make ``model := 'name'`` resolve to a local Hugging Face folder (kept in the
        database, so later sessions know it too)."""
        self._check()
        if not os.path.isdir(path):
            raise exc.ProgrammingError(f"model folder {path!r} does not exist")
        self.catalog.register_model(name, os.path.abspath(path), engine_options, default)

    def analyze(self, table: str) -> list[tuple]:
        """Collect table statistics (rows, distinct values, mean tokens per column) for the
        optimizer, measured with the default model's tokenizer."""
        tok = self.engine.tokenizer
        try:
            return self.catalog.analyze(table, lambda texts: [len(t) for t in tok(texts).input_ids] if texts else [])
        except Exception as error:
            raise exc.translate(error) from error


def connect(database: str = ":memory:", model: str | None = None, *, optimize: bool = True,
            reorder_fields: bool = False, **engine_options) -> Connection:
    """Open a database (a file path, or ":memory:") with LLM functions.

    ``model`` is a local Hugging Face folder or a registered model name; without one the
    catalog's default model is used, and without that the built-in random demo model.
    ``optimize=False`` turns the query optimizer off: every LLM call is then evaluated lazily,
    chunk by chunk, as DuckDB produces rows (the baseline the benchmarks compare against).
    ``reorder_fields=True`` lets the optimizer reorder the fields of every call for prefix
    sharing, as ``field_order := 'auto'`` does for one call.
    ``engine_options`` go to ``EngineConfig`` (device, dtype, kv_cache_bytes, ...).
    """
    return Connection(database, model, optimize=optimize, reorder_fields=reorder_fields,
                      **engine_options)
