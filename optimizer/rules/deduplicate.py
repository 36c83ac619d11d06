"""Identical calls are answered once for the whole query.

    SELECT LLM_CLASSIFY('Genre?', ['drama', 'comedy'], plot) AS genre, count(*)
    FROM movies GROUP BY LLM_CLASSIFY('Genre?', ['drama', 'comedy'], plot)

names one call twice: both occurrences read one set of answers (keyed by the call's text), so
a prompt is inferred once whichever occurrence meets it first. Within an operator, rows with the
same prompt are one request, and prompts the result cache holds are none. Across operators,
an occurrence whose rows an earlier one covered finds every answer known and infers nothing.
"""
from __future__ import annotations

from ..context import PlanningContext
from ..logical import LogicalPlan


def deduplicate(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    for node in plan.nodes:
        ctx.memos.setdefault(node.call.sql, {})
    return plan
