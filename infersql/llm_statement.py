"""One statement with LLM calls, from text to result: plan, materialize, bind, explain.

    parse (optimizer.parse)  ->  logical plan  ->  rules  ->  physical plan
    -> the LLM operators run in plan order (executor.run_plan)
    -> DuckDB runs the statement with every planned call bound to its answers

``EXPLAIN`` stops after planning (nothing is inferred) and prints the plan with estimates;
``EXPLAIN ANALYZE`` runs it and prints the actual figures beside them. With ``optimize=False``
on ``connect()`` every call runs the lazy path, chunk by chunk as DuckDB meets the rows.
"""
from __future__ import annotations

import re

import duckdb

from executor.errors import BadCallError, QueryCancelled
from executor.prefix_order import prefix_sorted
from executor.run_plan import attach_answers, bind_final, run_operators, total_stats, unbound
from executor.statement_stats import StatementStats
from executor.udfs import StatementState, registered
from optimizer import logical as logical_plan
from optimizer.context import PlanningContext
from optimizer.drivers import driver_sql
from optimizer.estimate import estimate
from optimizer.explain import render
from optimizer.feedback import record_feedback
from optimizer.optimize import optimize, unplanned
from optimizer.parameters import inline_all_parameters, inline_call_parameters
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
        inlined = with_values(planned, sql, parameters)
        if inlined is None:
            reason = "its parameters cannot be written as literals"
        else:
            planned, parameters = inlined, None
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
        except duckdb.Error as error:
            if isinstance(state.first, QueryCancelled):
                raise KeyboardInterrupt from state.first
            if state.first is not None:
                raise state.first
            raise in_user_terms(error, plan.calls) from error
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


_INTERNAL = re.compile(r"__infersql_\w+", re.IGNORECASE)


def in_user_terms(error: duckdb.Error, calls: dict) -> duckdb.Error:
    """DuckDB's error about the rewritten statement, told about the statement the user wrote:
    its excerpt of the rewritten text (``LINE 1: ...`` and the caret under it) goes, and any
    internal UDF name left becomes the call as written."""
    text = str(error)
    if not _INTERNAL.search(text):
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


def prefetch_many(cursor, con, operation: str, seq_of_parameters: list) -> None:
    """``executemany`` with LLM calls: the prompts that the first LLM operator of every
    parameter set will need go to the engine as one batch, in prefix order, and into the result
    cache; the statements then run one by one and find their answers there. Prompts that depend
    on an earlier call's answer are left to their statement."""
    runtime = cursor.connection.runtime
    wanted: dict[str, tuple] = {}
    for params in seq_of_parameters:
        sql, rest = inline_call_parameters(operation, params)
        planned = plan_statement(sql)
        if not planned.udfs or planned.explain:
            return
        planned = with_values(planned, sql, rest)
        if planned is None:
            return
        plan = logical_plan.build(planned.tree, planned.udfs)
        for node in plan.nodes + plan.lazy:
            driver = driver_sql(node, plan, ready=set()) if node.call.deterministic else None
            if driver is None:
                continue
            try:
                rows = con.execute(driver).fetchall()
            except duckdb.Error:
                continue                       # its statement will report it
            call, prompts = wanted.setdefault(node.call.sql, (node.call, {}))
            prompts.update(dict.fromkeys(p for p in runtime.render(call, rows) if p is not None))
    runtime.begin_statement()
    stats = StatementStats()
    ctx = PlanningContext(con, runtime)
    for call, prompts in wanted.values():
        new = list(prompts)
        known = runtime.lookup(call, new, stats)
        todo = [p for p in new if p not in known]
        if todo:
            runtime.engine_for(call)
            ids = ctx.tokenize(call, todo)
            order = prefix_sorted(ids)
            runtime.infer(call, [todo[i] for i in order], stats, prompt_ids=[ids[i] for i in order])
