"""Calls that would give the same answer to the same prompt share one set of answers.

    SELECT title, LLM('Summarize.', review) FROM reviews WHERE stars >= 4
    UNION
    SELECT title, LLM('Summarize.', reviews.review) FROM reviews WHERE topcritic

The parser already gives identical call texts one UDF (DuckDB matches a GROUP BY expression to
its SELECT item by structure). These two texts differ, so they are two UDFs, yet each renders
``review: ...`` under the same instruction: a prompt's answer depends only on the model and the
decoding options. So every occurrence on one model and options reads and fills one set of
answers, and a review in both branches is inferred once, by whichever operator runs first.
Within an operator the runtime sends each distinct prompt once, and none the result cache holds.
"""
from __future__ import annotations

from ..context import PlanningContext
from ..logical import LogicalPlan


def deduplicate(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    for node in plan.nodes:
        node.answers_key = node.call.answers_key()
    return plan
