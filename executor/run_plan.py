"""Materialize, then bind: run a physical plan's LLM operators, then the user's statement.

Every operator's driver query runs in DuckDB with the statement's UDFs registered and bound to
the answers of the operators before it (a row outside an earlier operator's rows reads NULL
there, which only ever drops a row that another predicate rejects). The operator's rows go to
the runtime's one answer path in plan order. Then DuckDB runs the user's statement, with each
planned call reading its operator's answers: the final pass starts no inference for them.
"""
from __future__ import annotations

from .limit_stream import StopAfter
from .llm_runtime import LLMRuntime
from .plan import LLMOperator, PhysicalPlan
from .statement_stats import StatementStats
from .statement_times import DRIVERS, REQUESTS, PhaseClock
from .udfs import LAZY, MEMBER, NULL, CallBinding, StatementState


def unbound(calls: dict) -> list[CallBinding]:
    """The statement's UDFs before planning: every call lazy."""
    return [CallBinding(name, call, arity) for name, (call, arity) in calls.items()]


def attach_answers(plan: PhysicalPlan, bindings: list[CallBinding]) -> None:
    """While the operators run, a planned call reads its answers, and NULL for any other row
    (only an earlier operator's calls are read, and only in predicates); unplanned calls
    stay lazy."""
    for b in bindings:
        key = plan.memo_key.get(b.name) if plan.planned else None
        b.call = plan.calls[b.name][0]
        b.memo = plan.memos.setdefault(key, {}) if key is not None else None
        b.on_miss = NULL if b.memo is not None else LAZY


def bind_final(plan: PhysicalPlan, bindings: list[CallBinding]) -> list[CallBinding]:
    """Switch each planned UDF to what a miss means in the user's statement; the membership
    tests the statement also calls (to register)."""
    for b in bindings:
        if b.memo is not None:
            b.on_miss = plan.on_miss.get(b.name, LAZY)
    by_name = {b.name: b for b in bindings}
    return [CallBinding(name, by_name[of].call, by_name[of].arity, by_name[of].memo, MEMBER)
            for name, of in plan.members.items()]


def run_operators(con, runtime: LLMRuntime, plan: PhysicalPlan, state: StatementState,
                  clock: PhaseClock | None = None) -> None:
    """Run every operator in plan order (the UDFs must be registered on ``con``); ``clock``
    is charged with the driver queries and the preparation of requests."""
    clock = clock or PhaseClock()
    done: set[str] = set()
    for i, op in enumerate(plan.operators):
        # only operators whose input is known now: not those reading this one's answers
        future = _future(con, runtime, plan, plan.operators[i + 1:], done, clock)
        rows = con.execute(op.driver_sql).fetchall()
        clock.lap(DRIVERS)
        stop = StopAfter(op.passes, op.stream_limit) if op.stream_limit is not None else None
        batch = runtime.answer(op.call, rows, op.actual, memo=plan.memo(op), order=op.order,
                               stop=stop, future=future, should_stop=state.cancel.is_set)
        op.actual_rows, op.actual_distinct, op.prompts = len(rows), len(batch.unique), batch.unique
        if op.passes is not None:
            op.actual_passed = sum(batch.answers.get(p) in op.passes for p in batch.prompts)
        done.add(op.binding)
        clock.lap(REQUESTS)


def _future(con, runtime: LLMRuntime, plan: PhysicalPlan, later: list[LLMOperator],
            ready: set[str], clock: PhaseClock) -> list | None:
    """The requests later operators will send, where they are known now: operators on the
    same model whose input reads no answer still to come, and that run all their rows (a
    streamed LIMIT's are not known before it runs, and tokenizing its every candidate would
    cost more than it saves). The engine's ``belady`` eviction keeps the cached blocks they
    will read (it evicts the block needed furthest ahead)."""
    from executor.engine import Request

    out = []
    for op in later:
        engine = runtime.models.loaded_engine(op.call.model)
        if (engine is None or not engine.blocks.eviction.uses_future or not op.reads <= ready
                or op.stream_limit is not None):
            continue
        memo = plan.memo(op)
        rows = con.execute(op.driver_sql).fetchall()
        clock.lap(DRIVERS)
        batch = runtime.prepare(op.call, rows)
        todo = [p for p in batch.unique if p not in memo]
        _, ids = runtime.ordered(op.call, todo, op.order)
        out += [Request(prompt_ids=i) for i in ids or []]
        clock.lap(REQUESTS)
    return out or None


def total_stats(plan: PhysicalPlan, state: StatementState) -> StatementStats:
    """The statement's LLM work: every operator's, plus the lazy path's and the samples'
    that no operator owns."""
    total = StatementStats()
    total.add(plan.sampled)
    for op in plan.operators:
        total.add(op.actual)
    total.add(state.lazy)
    return total
