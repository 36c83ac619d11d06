"""The optimizer's side of one statement: what ``executor.statement.run_statement`` asks of it.

    parse (optimizer.parse)  ->  logical plan  ->  rules  ->  physical plan  (``plan``)
    estimates before a run, EXPLAIN's lines after it, selectivity feedback once it finished

With ``optimize=False`` on ``connect()``, or parameters that cannot be written as literals,
every call runs the lazy path, chunk by chunk as DuckDB meets the rows.
"""
from __future__ import annotations

from collections.abc import Sequence

import duckdb

from executor.llm_call import LLMCall
from executor.llm_runtime import LLMRuntime
from executor.plan import PhysicalPlan
from executor.query_errors import BadCallError
from executor.statement import EXPLAIN
from executor.statement_stats import StatementStats
from executor.statement_times import StatementTimes

from . import logical
from .context import PlanningContext
from .drivers import driver_sql
from .estimate import estimate
from .explain import render
from .feedback import record_feedback
from .optimize import optimize, unplanned
from .parameters import inline_all_parameters, inline_call_parameters
from .parse import PlannedStatement, plan_statement


class StatementPlanner:
    """Plans one parsed statement on ``con`` (a ``executor.statement.Planner``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, runtime: LLMRuntime,
                 planned: PlannedStatement, sql: str, parameters, *, optimize: bool = True,
                 reorder_fields: bool = False, feedback=None) -> None:
        for _, call, _ in planned.udfs:       # unknown models fail before any work starts
            try:
                runtime.resolve(call.model)
            except BadCallError as error:
                raise BadCallError(f"{call.sql}: {error}") from error
        self.reason = None if optimize else "planning is off (connect(optimize=False))"
        if optimize and parameters:
            inlined = with_values(planned, sql, parameters)
            if inlined is None:
                self.reason = "its parameters cannot be written as literals"
            else:
                planned, parameters = inlined, None
        self.parameters = parameters
        self.explain = planned.explain
        self.format = planned.explain_format
        self.logical = logical.build(planned.tree, planned.udfs, planned.explain, reorder_fields)
        self.calls = self.logical.calls
        self.ctx = PlanningContext(con, runtime, feedback, may_infer=planned.explain != EXPLAIN)

    def plan(self) -> PhysicalPlan:
        if self.reason:
            return unplanned(self.logical, self.reason)
        return optimize(self.logical, self.ctx)

    def estimate(self, plan: PhysicalPlan) -> None:
        estimate(plan, self.ctx)

    def explain_lines(self, plan: PhysicalPlan, total: StatementStats | None,
                      times: StatementTimes | None = None) -> list[str]:
        return render(plan, total, self.format, times)

    def finished(self, plan: PhysicalPlan) -> None:
        if plan.planned:
            record_feedback(plan, self.ctx)


def with_values(planned: PlannedStatement, sql: str, parameters) -> PlannedStatement | None:
    """``planned`` with its ``?`` parameters written in as literals, so the optimizer can run
    parts of it on their own. The calls keep their descriptions from ``planned``: a field
    passed as ``?`` keeps its name, so the prompt (and the answer) is the unplanned path's."""
    inlined = inline_all_parameters(sql, parameters)
    if inlined is None:
        return None
    again = plan_statement(inlined)
    if len(again.udfs) != len(planned.udfs):
        return None
    again.udfs = [(name, call, arity) for (name, _, arity), (_, call, _)
                  in zip(again.udfs, planned.udfs)]
    return again


def prefetch_inputs(operation: str, seq_of_parameters: Sequence) -> list[tuple[LLMCall, str]]:
    """``executemany``: for every parameter set, each deterministic call whose input needs no
    LLM answer, with the query that computes its rows (``executor.statement.prefetch`` answers
    them all as one batch). Empty when a parameter set cannot be planned."""
    inputs = []
    for params in seq_of_parameters:
        sql, rest = inline_call_parameters(operation, params)
        planned = plan_statement(sql)
        if not planned.udfs or planned.explain:
            return []
        planned = with_values(planned, sql, rest)
        if planned is None:
            return []
        plan = logical.build(planned.tree, planned.udfs)
        for node in plan.nodes + plan.lazy:
            driver = driver_sql(node, plan, ready=set()) if node.call.deterministic else None
            if driver is not None:
                inputs.append((node.call, driver))
    return inputs
