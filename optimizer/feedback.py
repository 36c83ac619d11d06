"""After a planned statement runs, what its LLM predicates let through goes to the catalog,
so the next plan of the same predicate is ordered by measured selectivity."""
from __future__ import annotations

from executor.plan import PREDICATE, PhysicalPlan

from .context import PlanningContext
from .rules.order_predicates import feedback_key


def record_feedback(plan: PhysicalPlan, ctx: PlanningContext) -> None:
    if ctx.feedback is None:
        return
    for op in plan.operators:
        if op.passes is None or op.role != PREDICATE:
            continue
        memo = plan.memo(op)
        answers = [memo[p] for p in op.prompts if p in memo]
        if answers:
            ctx.feedback.record(ctx.model_key(op.call), feedback_key(op.call, op.passes),
                                sum(a in op.passes for a in answers), len(answers))
