"""One statement with LLM calls, from text to result: plan, materialize, bind, explain.

    parse (optimizer.parse)  ->  logical plan  ->  rules  ->  physical plan
    -> the LLM operators run in plan order (executor.run_plan)
    -> DuckDB runs the statement with every planned call bound to its answers

``EXPLAIN`` stops after planning (nothing is inferred) and prints the plan with estimates;
``EXPLAIN ANALYZE`` runs it and prints the actual figures beside them. With ``optimize=False``
on ``connect()`` every call runs the lazy path, chunk by chunk as DuckDB meets the rows.
"""
from __future__ import annotations

import duckdb

from executor.errors import BadCallError, QueryCancelled
from executor.run_plan import attach_answers, bind_final, run_operators, total_stats, unbound
from executor.udfs import StatementState, registered
from optimizer import logical as logical_plan
from optimizer.context import PlanningContext
from optimizer.estimate import estimate
from optimizer.explain import render
from optimizer.feedback import record_feedback
from optimizer.optimize import optimize, unplanned
from optimizer.parameters import inline_all_parameters
from optimizer.parse import PlannedStatement, plan_statement


def run_llm_statement(cursor, con, planned: PlannedStatement, sql: str, parameters,
                      interruptible) -> None:
    """Run ``planned`` (the parsed ``sql``) on ``con`` and leave its result on ``cursor``.
    ``interruptible(work, cancel)`` runs the work so that Ctrl-C cancels it."""
    conn = cursor.connection
    runtime = conn.runtime
    for _, call, _ in planned.udfs:       # unknown models fail before any work starts
        try:
            runtime.resolve(call.model)
        except BadCallError as error:
            raise BadCallError(f"{call.sql}: {error}") from error
    reason = None
    if not conn.optimize:
        reason = "planning is off (connect(optimize=False))"
    elif parameters:
        inlined = inline_all_parameters(sql, parameters)
        if inlined is None:
            reason = "its parameters cannot be written as literals"
        else:
            planned, parameters = plan_statement(inlined), None
    plan = logical_plan.build(planned.tree, planned.udfs, planned.explain, conn.reorder_fields)
    runtime.begin_statement()
    state = StatementState()
    ctx = PlanningContext(con, runtime, conn.feedback,
                          may_infer=planned.explain != "EXPLAIN")
    bindings = unbound(plan.calls)
    result: list = []

    def work() -> None:
        physical = unplanned(plan, reason) if reason else optimize(plan, ctx)
        result.append(physical)
        attach_answers(physical, bindings)
        if planned.explain:
            estimate(physical, ctx)         # before anything runs: what the plan expects
        if planned.explain == "EXPLAIN":
            return
        run_operators(con, runtime, physical, state, ctx.tokenize)
        with registered(con, runtime, bind_final(physical, bindings), state):
            con.execute(physical.final_sql, parameters)
            if planned.explain:
                con.fetchall()              # ANALYZE: run it to the end, show the plan
            else:
                cursor._capture(con, materialize=True)

    with registered(con, runtime, bindings, state):
        try:
            interruptible(work, state.cancel.set)
        except duckdb.Error:
            if isinstance(state.first, QueryCancelled):
                raise KeyboardInterrupt from state.first
            if state.first is not None:
                raise state.first
            raise
        finally:
            if result:
                cursor.stats = total_stats(result[0], state)
    physical = result[0]
    if physical.planned and planned.explain != "EXPLAIN":
        record_feedback(physical, ctx)
    if planned.explain:
        lines = render(physical, cursor.stats if planned.explain == "EXPLAIN ANALYZE" else None,
                       planned.explain_format)
        con.execute('SELECT unnest(?::VARCHAR[]) AS "QUERY PLAN"', [lines])
        cursor._capture(con, materialize=True)
