"""LLM projections run after every filter, and after ORDER BY ... LIMIT when they can.

    SELECT title, LLM('Summarize', review) FROM reviews WHERE stars = 5
    ORDER BY published DESC LIMIT 10

infers 10 summaries, not one per five-star review: the projection's input is the rows that
LIMIT keeps, as long as the ordering reads no LLM answer and nothing between the filters and
the LIMIT (grouping, DISTINCT, window functions, QUALIFY) needs every row. (Projections always
come after the predicates: ``logical.py`` puts them there, since the predicates decide which
rows reach them.)
"""
from __future__ import annotations

from sqlglot import exp

from ..context import PlanningContext
from ..drivers import row_limit
from ..logical import LogicalPlan, ScopeNode, needs_every_row, udf_calls


def place_projections(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    names = set(plan.calls)
    for scope in plan.scopes:
        if _limit_applies_first(scope, names):
            for node in scope.projections:
                node.limit_pushdown = node.place == "select" and not node.grouped
    return plan


def _limit_applies_first(scope: ScopeNode, names: set[str]) -> bool:
    s = scope.select
    if row_limit(s) is None or needs_every_row(s):
        return False
    order = s.args.get("order")
    if order is None:
        return True
    llm_aliases = {item.alias for item in s.expressions
                   if isinstance(item, exp.Alias) and udf_calls(item, names)}
    llm_positions = {i + 1 for i, item in enumerate(s.expressions) if udf_calls(item, names)}
    for o in order.expressions:
        key = o.this
        if udf_calls(key, names):
            return False
        if isinstance(key, exp.Column) and not key.table and key.name in llm_aliases:
            return False
        if isinstance(key, exp.Literal) and not key.is_string and int(key.this) in llm_positions:
            return False
    return True
