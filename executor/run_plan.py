"""Materialize, then bind: run a physical plan's LLM operators, then the user's statement.

Every operator's driver query runs in DuckDB with the statement's UDFs registered and bound to
the answers of the operators before it (a row outside an earlier operator's rows reads NULL
there, which only ever drops a row that another predicate rejects). The operator's requests go
to the engine as one list, in plan order. Then DuckDB runs the user's statement, with each
planned call reading its operator's answers: the final pass starts no inference for them.
"""
from __future__ import annotations

import logging
from typing import Callable

from .llm_runtime import LLMRuntime
from .plan import LLMOperator, PhysicalPlan
from .prefix_order import prefix_sorted
from .statement_stats import StatementStats
from .udfs import LAZY, MEMBER, NULL, CallBinding, StatementState

log = logging.getLogger(__name__)


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
                  tokenize: Callable[[object, list[str]], list[list[int]]]) -> None:
    """Run every operator in plan order (the UDFs must be registered on ``con``)."""
    done: set[str] = set()
    for i, op in enumerate(plan.operators):
        # only operators whose input is known now: not those reading this one's answers
        future = _future(con, runtime, plan, plan.operators[i + 1:], done, tokenize)
        run_operator(con, runtime, op, plan.memos[plan.memo_key[op.binding]], state, tokenize,
                     future)
        done.add(op.binding)


def _future(con, runtime: LLMRuntime, plan: PhysicalPlan, later: list[LLMOperator],
            ready: set[str], tokenize) -> list | None:
    """The requests later operators will send, where they are known now: operators on the
    same model whose input reads no answer still to come. The engine's ``plan`` eviction keeps
    the cached blocks they will read (Belady: it evicts the block needed furthest ahead)."""
    from executor.engine import Request

    out = []
    for op in later:
        engine = runtime.models.loaded_engine(op.call.model)
        if engine is None or engine.config.eviction != "plan" or not op.details.get("reads", set()) <= ready:
            continue
        memo = plan.memos[plan.memo_key[op.binding]]
        prompts = list(dict.fromkeys(
            p for p in runtime.render(op.call, con.execute(op.driver_sql).fetchall())
            if p is not None and p not in memo))
        ids = tokenize(op.call, prompts) if op.order == "prefix" else []
        out += [Request(prompt_ids=ids[i]) for i in prefix_sorted(ids)]
    return out or None


def run_operator(con, runtime: LLMRuntime, op: LLMOperator, memo: dict, state: StatementState,
                 tokenize, future: list | None = None) -> None:
    """render -> deduplicate -> result cache -> order -> engine -> answers."""
    stats = op.actual
    rows = con.execute(op.driver_sql).fetchall()
    prompts = runtime.render(op.call, rows)
    first_row: dict[str, tuple] = {}
    for p, r in zip(prompts, rows):
        if p is not None:
            first_row.setdefault(p, r)
    unique = list(first_row)
    op.actual_rows, op.actual_distinct = len(rows), len(unique)
    op.details["prompts"] = unique
    new = [p for p in unique if p not in memo]
    memo.update(runtime.lookup(op.call, new, stats))
    todo = [p for p in new if p not in memo]
    if todo:
        runtime.engine_for(op.call)      # load it now: its tokenizer serves the ordering too
    passed = [sum(_passes(op, memo[p]) for p in unique if p in memo)]
    if op.stream_limit is not None and passed[0] >= op.stream_limit:
        return
    ids = None
    if todo and op.order == "prefix":
        ids = tokenize(op.call, todo)
        perm = prefix_sorted(ids)
        todo, ids = [todo[i] for i in perm], [ids[i] for i in perm]

    if op.stream_limit is None:
        answers = runtime.infer(op.call, todo, stats, prompt_ids=ids, future=future,
                                should_stop=state.cancel.is_set, rows_of=first_row.get)
        memo.update(zip(todo, answers))
        return
    _stream(runtime, op, todo, ids, memo, passed, state, first_row.get)


def _stream(runtime, op: LLMOperator, todo, ids, memo, passed, state, rows_of) -> None:
    """A LIMIT's filter: requests go in waves sized to what should still be needed at the
    selectivity seen so far, and each wave stops as soon as enough rows passed."""
    def enough(prompt: str, text: str) -> bool:
        passed[0] += _passes(op, text)
        return passed[0] >= op.stream_limit

    done = 0
    while done < len(todo) and passed[0] < op.stream_limit:
        seen = sum(p in memo for p in todo[:done])
        rate = max(passed[0] / seen, 0.05) if seen else 0.5
        wave = min(len(todo) - done, max(8, int(1.5 * (op.stream_limit - passed[0]) / rate) + 1))
        part = slice(done, done + wave)
        answers = runtime.infer(op.call, todo[part], op.actual, prompt_ids=ids and ids[part],
                                should_stop=state.cancel.is_set, enough=enough, rows_of=rows_of)
        memo.update((p, a) for p, a in zip(todo[part], answers) if a is not None)
        done += wave


def _passes(op: LLMOperator, text: str | None) -> bool:
    return op.passes is not None and text in op.passes


def total_stats(plan: PhysicalPlan, state: StatementState) -> StatementStats:
    """The statement's LLM work: every operator's, plus the lazy path's."""
    total = StatementStats()
    for op in plan.operators:
        total.add(op.actual)
    total.add(state.lazy)
    return total
