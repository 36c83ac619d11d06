"""From the optimized logical plan to the executor's physical plan.

Operators are emitted scope by scope (inner scopes first), predicates in their ranked order,
then projections. Each one's driver query reads the answers of the operators before it; one
that cannot be computed on its own (a subquery correlated with its outer query, say) is left
to the lazy path, and EXPLAIN shows why.
"""
from __future__ import annotations

import itertools

from sqlglot import exp

from executor.plan import PREDICATE, LLMOperator, OperatorScope, PhysicalPlan
from executor.udfs import LAZY, NULL

from .context import PlanningContext
from .drivers import driver
from .logical import LLMNode, LogicalPlan
from .predicates import passing_answers
from .profile import independent_sql
from .user_sql import scope_input, scope_name, user_sql

_member_names = itertools.count()


def to_physical(plan: LogicalPlan, ctx: PlanningContext) -> PhysicalPlan:
    ready: set[str] = set()
    operators: list[LLMOperator] = []
    names = {name: call.sql for name, (call, _) in plan.calls.items()}
    for scope in plan.scopes:
        for node in scope.predicates + scope.projections:
            found = driver(node, plan, ready)
            if found is None or not ctx.binds(found[0]):
                node.lazy_reason = ("its input cannot be computed on its own (a correlated "
                                    "subquery, or it reads an unplanned call)")
                plan.lazy.append(node)
                continue
            op = _operator(node, plan, found, names)
            sampled = ctx.sampled.pop(node.call.sql, None)
            if sampled is not None:
                op.actual.add(sampled)          # the sample's inferences are this operator's
            operators.append(op)
            ready.add(node.binding)
    for scope in plan.scopes:                   # nodes that became lazy leave their scope
        scope.predicates = [n for n in scope.predicates if n.planned]
        scope.projections = [n for n in scope.projections if n.planned]
    members, final_sql = _restrict_to_limited_rows(plan)
    lazy_names = {n.binding for n in plan.lazy}
    on_miss, memo_key = {}, {}
    for node in plan.nodes:
        memo_key[node.binding] = node.answers_key
        everywhere_predicate = node.role == PREDICATE and node.binding not in lazy_names
        if on_miss.get(node.binding) != LAZY:
            on_miss[node.binding] = NULL if everywhere_predicate else LAZY
    for node in plan.lazy:
        if node.binding in memo_key:
            on_miss[node.binding] = LAZY
    physical = PhysicalPlan(final_sql=final_sql, calls=plan.calls, operators=operators,
                            on_miss=on_miss, memo_key=memo_key, memos=ctx.memos,
                            lazy={n.binding: n.lazy_reason for n in plan.lazy}, members=members,
                            planned=True, explain=plan.explain)
    for stats in ctx.sampled.values():      # samples of calls left lazy still count
        physical.sampled.add(stats)
    ctx.sampled.clear()
    return physical


def _operator(node: LLMNode, plan: LogicalPlan, found: tuple[str, set[str]],
              names: dict[str, str]) -> LLMOperator:
    """The node as the executor runs it and EXPLAIN shows it, with no reference back."""
    scope = OperatorScope(id(node.scope), scope_name(node.scope.select), scope_input(node, names))
    return LLMOperator(
        binding=node.binding, call=node.call, role=node.role, driver_sql=found[0],
        reads=frozenset(found[1]), scope=scope,
        predicate=user_sql(node.conjunct, names) if node.role == PREDICATE else None,
        passes=passing_answers(node), selectivity=node.selectivity,
        selectivity_source=node.selectivity_source, order=node.order,
        stream_limit=node.stream_limit, limit_pushdown=node.limit_pushdown,
        independent_sql=independent_sql(node, plan) if plan.explain else None,  # estimates
        estimate=node.estimate)


def _restrict_to_limited_rows(plan: LogicalPlan) -> tuple[dict[str, str], str]:
    """In a scope whose projections were planned for the rows ORDER BY ... LIMIT keeps, add
    to the final statement's WHERE a test that a row is one of those (its arguments were
    answered). DuckDB may compute select-list calls before its Top-N; with the test it computes
    them on the kept rows only. A tie at the LIMIT's edge may then pick another of the tied
    rows than an unplanned run would, which SQL allows."""
    members = {}
    final = plan.tree.copy()             # the plan's tree stays the statement as written
    twin = dict(zip(map(id, plan.tree.find_all(exp.Select)), final.find_all(exp.Select)))
    for scope in plan.scopes:
        node = next((n for n in scope.projections if n.limit_pushdown), None)
        if node is None:
            continue
        name = f"{node.binding}_rows{next(_member_names)}"
        members[name] = node.binding
        test = exp.Anonymous(this=name, expressions=[a.copy() for a in node.node.expressions])
        twin[id(scope.select)].where(test, append=True, copy=False)
    return members, final.sql(dialect="duckdb")
