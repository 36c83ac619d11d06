"""From the optimized logical plan to the executor's physical plan.

Operators are emitted scope by scope (inner scopes first), predicates in their ranked order,
then projections. Each one's driver query reads the answers of the operators before it; one
that cannot be computed on its own (a subquery correlated with its outer query, say) is left
to the lazy path, and EXPLAIN shows why.
"""
from __future__ import annotations

import itertools

from sqlglot import exp

from executor.plan import LLMOperator, PhysicalPlan
from executor.udfs import LAZY, NULL

from .context import PlanningContext
from .drivers import driver
from .logical import PREDICATE, LogicalPlan
from .predicates import passing_answers

_member_names = itertools.count()


def to_physical(plan: LogicalPlan, ctx: PlanningContext) -> PhysicalPlan:
    ready: set[str] = set()
    operators: list[LLMOperator] = []
    for scope in plan.scopes:
        for node in scope.predicates + scope.projections:
            found = driver(node, plan, ready)
            if found is None or not ctx.binds(found[0]):
                node.lazy_reason = ("its input cannot be computed on its own (a correlated "
                                    "subquery, or it reads an unplanned call)")
                plan.lazy.append(node)
                continue
            op = LLMOperator(node.binding, node.call, found[0], node.role, node.order,
                             node.stream_limit, passing_answers(node), node.estimate,
                             details={"node": node, "plan": plan, "reads": found[1]})
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
        memo_key[node.binding] = node.call.sql
        everywhere_predicate = node.role == PREDICATE and node.binding not in lazy_names
        if on_miss.get(node.binding) != LAZY:
            on_miss[node.binding] = NULL if everywhere_predicate else LAZY
    for node in plan.lazy:
        if node.binding in memo_key:
            on_miss[node.binding] = LAZY
    return PhysicalPlan(final_sql, plan.calls, operators, on_miss,
                        memo_key, ctx.memos, {n.binding: n.lazy_reason for n in plan.lazy},
                        members, True, plan.explain)


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
