"""``infersql.connect()``: a PEP 249 connection to a DuckDB database that can run LLM calls.

The connection owns the DuckDB database, the catalog stored in it, and the LLM runtime (one
engine per model, loaded on first use). Statements without LLM calls go to DuckDB unchanged.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import weakref

import duckdb

from catalog import Catalog
from catalog.selectivity import SelectivityFeedback
from executor.llm_runtime import LLMRuntime
from executor.models import check_model_path
from executor.scale import ScaleOut

from . import exceptions as exc
from .cursor import Cursor
from .threads import set_threads
from .demo_model import default_model_path

log = logging.getLogger(__name__)


def _builtin_model() -> str:
    return str(default_model_path())


class Connection:
    # PEP 249 optional extension: the exception classes as connection attributes.
    Warning, Error, InterfaceError, DatabaseError = exc.Warning, exc.Error, exc.InterfaceError, exc.DatabaseError
    DataError, OperationalError, IntegrityError = exc.DataError, exc.OperationalError, exc.IntegrityError
    InternalError, ProgrammingError, NotSupportedError = exc.InternalError, exc.ProgrammingError, exc.NotSupportedError

    def __init__(self, database: str = ":memory:", model: str | None = None, *,
                 optimize: bool = True, reorder_fields: bool = False, read_only: bool = False,
                 threads: int | None = None, workers: int | None = None,
                 cluster: str | None = None, address: str | None = None,
                 **engine_options) -> None:
        self.optimize = bool(optimize)              # False: every call runs the lazy UDF path
        self.reorder_fields = bool(reorder_fields)  # True: field_order := 'auto' on every call
        check_engine_options(engine_options)
        try:
            scale = ScaleOut.from_options(workers, cluster, address)
        except Exception as error:
            raise exc.translate(error) from error
        model = None if model is None else os.fspath(model)      # a str or a pathlib.Path
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise exc.ProgrammingError(f"threads must be a positive integer, got {threads!r}")
        self._db = _open(database, bool(read_only))
        if threads is not None:
            set_threads(self._db, threads)
        self.database = database
        self.read_only = bool(read_only)
        self.catalog = Catalog(self._db)
        self.feedback = SelectivityFeedback(self._db, self.catalog.read_only)   # optimizer's
        self.runtime = LLMRuntime(self.catalog, model, _builtin_model, engine_options)
        self.runtime.models.scale = scale
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()
        self._session = threading.local()       # each thread's cursor for execute()
        self.closed = False
        if model is not None:
            self._check_model(model)

    def _check_model(self, model: str) -> None:
        """A bad ``model`` (no such folder or registered name, a file) fails here, not at
        the first LLM query. Only the name is resolved: no weights are read, no torch."""
        try:
            self.runtime.resolve(model)
        except Exception as error:
            self.close()
            raise exc.translate(error) from error

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
            self.runtime.models.close()
            self.catalog.close()
            self.feedback.close()
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
        """Make ``model := 'name'`` resolve to a local Hugging Face folder or GGUF file (kept
        in the database, so later sessions know it too)."""
        self._check()
        path = os.fspath(path)
        check_engine_options(engine_options)
        try:
            check_model_path(path)
            self.catalog.register_model(name, os.path.abspath(path), engine_options, default)
        except Exception as error:
            raise exc.translate(error) from error

    def analyze(self, table: str) -> list[tuple]:
        """Collect table statistics (rows, distinct values, mean tokens per column, measured
        with the default model's tokenizer): what a table would cost to send to the model.
        They are returned and kept in the catalog for people to read; the optimizer does not
        need them, since it counts the rows that reach each call with DuckDB as it plans."""
        tok = self.engine.tokenizer
        try:
            return self.catalog.analyze(table, lambda texts: [len(t) for t in tok(texts).input_ids] if texts else [])
        except Exception as error:
            raise exc.translate(error) from error


def _open(database: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """The DuckDB database, with the fix named when a file cannot be opened for writing."""
    if read_only and database in ("", ":memory:"):
        raise exc.ProgrammingError("read_only=True (--read-only) needs a database file; an "
                                   "in-memory database starts empty, so there is nothing to read")
    try:
        return duckdb.connect(database, read_only=read_only)
    except duckdb.Error as error:
        hint = ""
        if not read_only and database != ":memory:" and os.path.exists(database) \
                and not os.access(database, os.W_OK):
            hint = " (the file is not writable: open it with read_only=True, or --read-only)"
        raise type(exc.translate(error))(f"cannot open database {database!r}: {error}{hint}") from error


def check_engine_options(options: dict) -> None:
    """Engine options are checked when the connection opens, not at the first LLM call:
    ``EngineConfig`` validates them without loading torch or a model."""
    from executor.engine.config import EngineConfig      # no torch: config is plain data

    known = {f.name for f in dataclasses.fields(EngineConfig)} - {"model"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise exc.ProgrammingError(f"unknown engine option {unknown[0]!r}; valid options are "
                                   f"{', '.join(sorted(known))}")
    try:
        EngineConfig(model="", **options)
    except ValueError as error:          # InvalidRequestError: a bad value, named
        raise exc.ProgrammingError(str(error)) from error
    check_device(options.get("device"))


def check_device(device: str | None) -> None:
    """A device this torch cannot use fails at connect(), not at the first LLM call with
    torch's "Torch not compiled with CUDA enabled". torch is imported only for an
    accelerator: plain SQL on the CPU never imports it."""
    if device is None or str(device).split(":")[0] == "cpu":
        return
    import torch

    try:
        kind = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise exc.ProgrammingError(f"unknown device {device!r}: use 'cpu', 'cuda', 'cuda:N' "
                                   "or 'mps'") from error
    fallback = "or use device='cpu' (--device cpu)"
    if kind.type == "cuda":
        if torch.version.cuda is None and torch.version.hip is None:
            raise exc.OperationalError(
                f"device {device!r}: this torch ({torch.__version__}) is built without CUDA; "
                "install a CUDA build of torch (https://pytorch.org/get-started/locally/), "
                f"{fallback}")
        count = torch.cuda.device_count()
        if not count or (kind.index is not None and kind.index >= count):
            raise exc.OperationalError(
                f"device {device!r}: torch sees {count} CUDA device(s); check the driver "
                f"(nvidia-smi) and CUDA_VISIBLE_DEVICES, {fallback}")
    elif kind.type == "mps" and not torch.backends.mps.is_available():
        raise exc.OperationalError(f"device {device!r}: MPS (Apple GPU) is not available in "
                                   f"this torch on this machine; {fallback}")


def connect(database: str = ":memory:", model: str | None = None, *, optimize: bool = True,
            reorder_fields: bool = False, read_only: bool = False, threads: int | None = None,
            workers: int | None = None, cluster: str | None = None, address: str | None = None,
            **engine_options) -> Connection:
    """Open a database (a file path, or ":memory:") with LLM functions.

    ``model`` is a local Hugging Face folder or a registered model name; without one the
    catalog's default model is used, and without that the built-in model that ships with
    the package (infersql/builtin_model/).
    ``optimize=False`` turns the query optimizer off: every LLM call is then evaluated lazily,
    chunk by chunk, as DuckDB produces rows (the baseline the benchmarks compare against).
    ``reorder_fields=True`` lets the optimizer reorder the fields of every call for prefix
    sharing, as ``field_order := 'auto'`` does for one call.
    ``threads=N`` caps DuckDB's threads and torch's (one is best beside another busy process).
    ``read_only=True`` opens the database read-only (also a file you cannot write): LLM
    queries still run, and their results are kept for the session instead of persisted.
    ``engine_options`` go to ``EngineConfig`` (device, dtype, kv_cache_bytes, ...) and are
    checked here; with workers, each worker's engine gets them (``kv_cache_bytes`` is per
    worker).
    ``workers=N`` runs each model on N engines, Ray actors on a local Ray started at the first
    LLM call; ``cluster='ray://host:port'`` (Ray Client) or ``address='auto'`` (a cluster this
    machine is part of) runs them on an existing cluster instead (with ``workers`` unset: one
    per GPU, or per node on CPU). Ray is an optional extra: ``pip install 'infersql[ray]'``.
    Without these options Ray is never imported.
    """
    return Connection(database, model, optimize=optimize, reorder_fields=reorder_fields,
                      read_only=read_only, threads=threads, workers=workers, cluster=cluster,
                      address=address, **engine_options)
