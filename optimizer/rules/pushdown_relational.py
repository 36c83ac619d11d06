"""Relational predicates run below every LLM operator.

    SELECT * FROM reviews WHERE LLM_FILTER('Praises the acting?', review) AND stars >= 4

infers only the rows with ``stars >= 4``: each LLM operator's input (its driver query) carries
every conjunct of WHERE, and of an inner join's ON, that holds no unanswered LLM call. DuckDB
pushes them further down (into the scan or the join) itself.
"""
from __future__ import annotations

from ..context import PlanningContext
from ..logical import LogicalPlan, predicate_terms, udf_calls


def pushdown_relational(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    names = set(plan.calls)
    for scope in plan.scopes:
        scope.relational = [c for c in predicate_terms(scope.select)
                            if not udf_calls(c, names, scope.select)]
    return plan
