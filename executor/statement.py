"""One statement with LLM calls, run from plan to result:

    plan (the optimizer, through ``Planner``)  ->  the LLM operators run in plan order
    ->  DuckDB runs the statement with every planned call bound to its answers
    ->  the result goes to the cursor's ``ResultSink``

``EXPLAIN`` stops after planning (nothing is inferred) and hands over the plan with estimates;
``EXPLAIN ANALYZE`` runs it and hands over the actual figures beside them. The executor does
not import the optimizer (the stack runs one way: infersql -> optimizer -> executor): the
cursor passes in a ``Planner`` that the optimizer built for this statement.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Callable, Protocol

import duckdb

from .llm_call import LLMCall
from .llm_runtime import LLMRuntime
from .plan import PhysicalPlan
from .query_errors import QueryCancelled
from .run_plan import attach_answers, bind_final, run_operators, total_stats, unbound
from .statement_stats import StatementStats
from .statement_times import FINAL_PASS, PLANNING, PhaseClock, StatementTimes
from .udfs import StatementState, registered

EXPLAIN, EXPLAIN_ANALYZE = "EXPLAIN", "EXPLAIN ANALYZE"
log = logging.getLogger(__name__)


class Planner(Protocol):
    """What the optimizer gives the executor for one parsed statement."""

    calls: dict[str, tuple[LLMCall, int]]   # UDF name -> (call, arity)
    explain: str                            # "", EXPLAIN or EXPLAIN_ANALYZE
    parameters: object                      # what DuckDB still binds in the final statement

    def plan(self) -> PhysicalPlan: ...
    def estimate(self, plan: PhysicalPlan) -> None: ...
    def explain_lines(self, plan: PhysicalPlan, total: StatementStats | None,
                      times: StatementTimes | None) -> list[str]: ...
    def finished(self, plan: PhysicalPlan) -> None: ...


class ResultSink(Protocol):
    """Where a statement's result goes: the cursor."""

    def take_result(self, con: duckdb.DuckDBPyConnection) -> None: ...
    def take_stats(self, stats: StatementStats) -> None: ...


def run_statement(con: duckdb.DuckDBPyConnection, runtime: LLMRuntime, planner: Planner,
                  sink: ResultSink, started: float | None = None) -> None:
    """Plan and run one statement on ``con``; Ctrl-C cancels its inference and keeps what
    finished (in the result cache). ``started``: ``time.perf_counter()`` when the statement
    began (before it was parsed), where its timing starts."""
    runtime.begin_statement()
    state = StatementState()
    bindings = unbound(planner.calls)
    result: list[PhysicalPlan] = []
    totals: list[StatementStats] = []
    clock = PhaseClock(started)

    def work() -> None:
        physical = planner.plan()
        result.append(physical)
        clock.watch(lambda: total_stats(physical, state).seconds)
        attach_answers(physical, bindings)
        if planner.explain:
            planner.estimate(physical)        # before anything runs: what the plan expects
        clock.lap(PLANNING)
        if planner.explain == EXPLAIN:
            return
        run_operators(con, runtime, physical, state, clock)
        with registered(con, runtime, bind_final(physical, bindings), state):
            con.execute(physical.final_sql, planner.parameters)
            if planner.explain:
                con.fetchall()              # ANALYZE: run it to the end, show the plan
            else:
                sink.take_result(con)
        clock.lap(FINAL_PASS)

    with registered(con, runtime, bindings, state):
        try:
            run_cancellable(work, state.cancel.set)
        except duckdb.Error as error:
            if isinstance(state.first, QueryCancelled):
                raise KeyboardInterrupt from state.first
            if state.first is not None:
                raise state.first
            raise in_user_terms(error, planner.calls) from error
        finally:
            if result:
                totals.append(total_stats(result[0], state))
                sink.take_stats(totals[0])
    physical = result[0]
    clock.lap(FINAL_PASS)                   # its UDFs removed
    failures = state.lazy.cast_failures
    if failures:
        log.warning("%d typed answer%s did not fit %s type and read NULL (cursor.stats."
                    "cast_failures; on_error := 'raise' makes it an error)", failures,
                    "s" if failures != 1 else "", "their" if failures != 1 else "its")
    if planner.explain != EXPLAIN:
        planner.finished(physical)
        clock.lap(PLANNING)                 # the optimizer's feedback from the run
    if planner.explain:
        analyze = planner.explain == EXPLAIN_ANALYZE
        lines = planner.explain_lines(physical, totals[0] if analyze else None,
                                      clock.times if analyze else None)
        con.execute('SELECT unnest(?::VARCHAR[]) AS "QUERY PLAN"', [lines])
        sink.take_result(con)


def run_cancellable(work: Callable[[], None], cancel: Callable[[], None]) -> None:
    """Run ``work`` in a worker thread while this thread waits in Python, so Ctrl-C arrives
    here (DuckDB would otherwise hold it until the query ends); then ``cancel`` the work,
    wait for it to wind down, and re-raise. (DuckDB refuses ``interrupt()`` from another
    thread while the connection is busy, so cancelling goes through the statement's own
    flag, which its UDFs hand the engine: the engine stops within one iteration and the
    UDF's error ends the query.)"""
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


_INTERNAL = re.compile(r"__infersql_\w+", re.IGNORECASE)


def in_user_terms(error: duckdb.Error, calls: dict) -> duckdb.Error:
    """DuckDB's error about the rewritten statement (or a driver query), told about the
    statement the user wrote: its excerpt of the text it ran (``LINE 1: ...`` and the caret
    under it), which the user never wrote, goes, and any internal UDF name left becomes the
    call as written."""
    text = str(error)
    if not _INTERNAL.search(text) and "\nLINE " not in text:
        return error
    lines = text.splitlines()
    kept = []
    for i, line in enumerate(lines):
        if line.startswith("LINE ") or (i and lines[i - 1].startswith("LINE ") and not line.strip("^ ")):
            continue
        kept.append(line)
    text = "\n".join(kept).rstrip()
    by_name = {name.lower(): call.sql for name, (call, _) in calls.items()}
    text = _INTERNAL.sub(lambda m: by_name.get(m.group(0).lower(), "an LLM call"), text)
    return type(error)(text)


def prefetch(con: duckdb.DuckDBPyConnection, runtime: LLMRuntime,
             inputs: list[tuple[LLMCall, str]]) -> StatementStats:
    """``executemany`` with LLM calls: the rows of every (call, driver query) pair, over all
    parameter sets, are answered as one batch per call, in prefix order, into the result
    cache; the statements then run one by one and find their answers there. A driver that
    fails is left for its statement to report. Returns the batch's LLM work."""
    rows_of: dict[str, tuple[LLMCall, list]] = {}
    for call, driver in inputs:
        try:
            rows = con.execute(driver).fetchall()
        except duckdb.Error:
            continue
        rows_of.setdefault(call.sql, (call, []))[1].extend(rows)
    runtime.begin_statement()
    stats = StatementStats()
    for call, rows in rows_of.values():
        runtime.answer(call, rows, stats)
    return stats
