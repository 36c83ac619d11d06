"""Registering a statement's LLM calls as DuckDB vectorized (arrow) UDFs.

Each call site gets its own function for the duration of one statement. DuckDB hands it chunks
of up to 2048 rows, possibly from several threads; the runtime serializes them on the engine.
An exception inside a UDF reaches the caller as a DuckDB error that has lost its type, so the
original is kept here and re-raised by the cursor.
"""
from __future__ import annotations

import contextlib
import inspect
import threading

import duckdb
import pyarrow as pa

from executor.llm_call import LLMCall
from executor.llm_runtime import LLMRuntime

_RETURN = {"llm": "VARCHAR", "filter": "BOOLEAN", "classify": "VARCHAR"}
_ARROW = {"llm": pa.string(), "filter": pa.bool_(), "classify": pa.string()}


class StatementState:
    """What the UDFs of one running statement share: the first exception raised inside any
    of them, and the flag that cancels the statement's inference."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.first: BaseException | None = None
        self.cancel = threading.Event()

    def record(self, exc: BaseException) -> None:
        with self._lock:
            if self.first is None:
                self.first = exc


def _udf(runtime: LLMRuntime, call: LLMCall, state: StatementState, arity: int):
    def evaluate(*arrays):
        try:
            values = runtime.evaluate(call, [a.to_pylist() for a in arrays], state.cancel.is_set)
        except BaseException as exc:   # Ctrl-C too: DuckDB would only see a generic error
            state.record(exc)
            raise
        return pa.array(values, type=_ARROW[call.kind])

    # DuckDB counts the function's declared parameters; *arrays would count as one.
    evaluate.__signature__ = inspect.Signature(
        [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)])
    return evaluate


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, runtime: LLMRuntime,
               udfs: list[tuple[str, LLMCall, int]], state: StatementState):
    """Register the statement's UDFs on ``con`` for the duration of the block."""
    done = []
    try:
        for name, call, arity in udfs:
            con.create_function(name, _udf(runtime, call, state, arity), ["VARCHAR"] * arity,
                                _RETURN[call.kind], type="arrow", null_handling="special",
                                side_effects=not call.deterministic)
            done.append(name)
        yield
    finally:
        for name in done:
            con.remove_function(name)
