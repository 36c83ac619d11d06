"""LIMIT without ORDER BY over an LLM filter stops inferring once enough rows passed.

    SELECT * FROM reviews WHERE LLM_FILTER('Mentions a dog?', review) LIMIT 5

Any five passing rows are a right answer, so the filter's requests stream in plan order and
the rest are dropped as soon as five prompts passed: the engine has run a few batches, not the
table. A row that was never asked reads NULL in the final pass, which only leaves it out.
It applies when the filter is the scope's only LLM predicate (with two, the first could stop
before the second has five survivors) and nothing between WHERE and LIMIT needs every row.
"""
from __future__ import annotations

from ..context import PlanningContext
from ..drivers import row_limit
from ..logical import LogicalPlan, needs_every_row
from ..predicates import passing_answers


def stream_limit(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    for scope in plan.scopes:
        s = scope.select
        limit = row_limit(s)
        if limit is None or len(scope.predicates) != 1 or s.args.get("order") is not None:
            continue
        if needs_every_row(s):
            continue
        node = scope.predicates[0]
        if passing_answers(node) is None or node.place != "where":
            continue
        node.stream_limit = limit
        for projection in scope.projections:
            projection.limit_pushdown = False      # the final LIMIT picks among the passing rows
    return plan
