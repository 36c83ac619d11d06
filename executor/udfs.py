"""A statement's LLM calls as DuckDB vectorized (arrow) UDFs, bound to the plan's answers.

Each call site gets its own function for the duration of one statement (DuckDB registers UDFs
per database, visible to every cursor, so names are unique process-wide). A planned call's UDF
reads the answers its operator computed before the final pass ("materialize, then bind"); it
never starts inference for a row the plan covered. For a row the plan did not cover it does
what the binding says: NULL where that cannot change the answer (a conjunct of WHERE, whose
row another conjunct rejects), otherwise it computes the row lazily and counts it, so the
answer stays right and EXPLAIN ANALYZE shows the planning miss. An unplanned call is all lazy.

An exception inside a UDF reaches the caller as a DuckDB error that has lost its type, so the
original is kept here and re-raised by the cursor.
"""
from __future__ import annotations

import contextlib
import inspect
import threading
from dataclasses import dataclass

import duckdb

from .llm_call import LLMCall
from .llm_runtime import LLMRuntime
from .plan import TABLE
from .query_errors import AnswerTypeError
from .sql_types import CastFailure, arrow_type
from .statement_stats import StatementStats

LAZY, NULL = "lazy", "null"     # what a UDF does with a row its plan did not cover
MEMBER = "member"               # not a call: whether the plan covered the row
                                # (optimizer/physical.py, _restrict_to_limited_rows)


@dataclass
class CallBinding:
    """One call site in one statement: its UDF name and arity, and, once planned, the answers
    (prompt -> answer text) and what a miss means."""

    name: str
    call: LLMCall
    arity: int
    memo: dict[str, str | None] | None = None     # None: not planned, every row is lazy
    on_miss: str = LAZY
    lazy_rows: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()


class StatementState:
    """What the UDFs of one running statement share: the first exception raised inside any
    of them, the flag that cancels the statement's inference, and the lazy path's costs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.first: BaseException | None = None
        self.cancel = threading.Event()
        self.lazy = StatementStats()

    def record(self, exc: BaseException) -> None:
        with self._lock:
            if self.first is None:
                self.first = exc


def _values(runtime: LLMRuntime, b: CallBinding, columns: list[list], state: StatementState) -> list:
    rows = list(zip(*columns))
    if b.memo is None:
        return _decoded(b.call, _lazy(runtime, b.call, rows, state), state)
    prompts = runtime.render(b.call, rows)
    if b.on_miss == MEMBER:
        return [p is None or p in b.memo for p in prompts]
    texts = [None if p is None else b.memo.get(p) for p in prompts]
    missing = [i for i, p in enumerate(prompts) if p is not None and p not in b.memo]
    if missing and b.on_miss == LAZY:
        for i, text in zip(missing, _lazy(runtime, b.call, [rows[i] for i in missing], state)):
            texts[i] = text
        with b.lock:
            b.lazy_rows += len(missing)
    return _decoded(b.call, texts, state)


def _lazy(runtime: LLMRuntime, call: LLMCall, rows: list[tuple], state: StatementState) -> list:
    """Rows the plan did not cover, answered as DuckDB meets them, in table order; counted as
    lazy evaluations (EXPLAIN ANALYZE shows them). Their answer texts."""
    batch = runtime.answer(call, rows, state.lazy, order=TABLE, should_stop=state.cancel.is_set)
    state.lazy.lazy_evaluations += batch.inferred
    return batch.texts()


def _decoded(call: LLMCall, texts: list[str | None], state: StatementState) -> list:
    """The SQL values of answer texts. A typed answer its type cannot hold reads NULL and is
    counted (``cast_failures``), or fails the statement with ``on_error := 'raise'``."""
    values = []
    for text in texts:
        try:
            values.append(call.decode(text))
        except CastFailure as exc:
            if call.on_error == "raise":
                raise AnswerTypeError(f"{call.sql}: {exc}") from exc
            state.lazy.cast_failures += 1
            values.append(None)
    return values


def _udf(runtime: LLMRuntime, binding: CallBinding, state: StatementState):
    import pyarrow as pa

    result_type = _arrow_type(binding)

    def evaluate(*arrays):
        try:
            values = _values(runtime, binding, [a.to_pylist() for a in arrays], state)
        except BaseException as exc:   # Ctrl-C too: DuckDB would only see a generic error
            state.record(exc)
            raise
        return pa.array(values, type=result_type)

    # DuckDB counts the function's declared parameters; *arrays would count as one.
    evaluate.__signature__ = inspect.Signature(
        [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY)
         for i in range(binding.arity)])
    return evaluate


def _sql_type(b: CallBinding) -> str:
    return "BOOLEAN" if b.on_miss == MEMBER else b.call.sql_type


def _arrow_type(b: CallBinding):
    import pyarrow as pa

    sql_type = _sql_type(b)
    if sql_type == "BOOLEAN":
        return pa.bool_()
    if sql_type == "JSON":
        return pa.json_()               # Arrow's canonical JSON extension, which DuckDB reads as JSON
    return pa.string() if sql_type == "VARCHAR" else arrow_type(sql_type)


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, runtime: LLMRuntime,
               bindings: list[CallBinding], state: StatementState):
    """Register the statement's UDFs on ``con`` for the duration of the block."""
    done = []
    try:
        for b in bindings:
            con.create_function(b.name, _udf(runtime, b, state), ["VARCHAR"] * b.arity,
                                duckdb.sqltype(_sql_type(b)), type="arrow",
                                null_handling="special", side_effects=not b.call.deterministic)
            done.append(b.name)
        yield
    finally:
        for name in done:
            con.remove_function(name)
