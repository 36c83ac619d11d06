"""LIMIT without ORDER BY over an LLM filter stops inferring once enough rows passed.

    SELECT * FROM reviews WHERE LLM_FILTER('Mentions a dog?', review) LIMIT 5

Any five passing rows are a right answer, so the filter's requests stream in plan order and
the rest are dropped as soon as five prompts passed: the engine has run a few batches, not the
table. A row that was never asked reads NULL in the final pass, which only leaves it out.
It applies when the filter is the scope's only LLM predicate (with two, the first could stop
before the second has five survivors) and nothing between WHERE and LIMIT needs every row.
"""
from __future__ import annotations

from sqlglot import exp

from ..context import PlanningContext
from ..drivers import row_limit
from ..logical import LogicalPlan
from ..predicates import passing_answers


def stream_limit(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    for scope in plan.scopes:
        s = scope.select
        limit = row_limit(s)
        if limit is None or len(scope.predicates) != 1 or s.args.get("order") is not None:
            continue
        if s.args.get("distinct") or s.args.get("group") or s.args.get("having") is not None:
            continue
        if s.args.get("qualify") is not None or any(
                isinstance(e, (exp.AggFunc, exp.Window)) for item in s.expressions
                for e in item.find_all(exp.AggFunc, exp.Window)):
            continue
        node = scope.predicates[0]
        if passing_answers(node) is None or node.place != "where":
            continue
        node.stream_limit = limit
        for projection in scope.projections:
            projection.limit_pushdown = False      # the final LIMIT picks among the passing rows
    return plan
