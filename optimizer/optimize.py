"""``optimize()``: fold the rules over the logical plan, then emit the physical plan."""
from __future__ import annotations

from collections.abc import Sequence

from executor.plan import PhysicalPlan

from .context import PlanningContext
from .logical import LogicalPlan
from .physical import to_physical
from .rules import RULES, OptimizerRule


def optimize(plan: LogicalPlan, ctx: PlanningContext,
             rules: Sequence[OptimizerRule] = RULES) -> PhysicalPlan:
    for rule in rules:
        plan = rule(plan, ctx)
    return to_physical(plan, ctx)


def unplanned(plan: LogicalPlan, reason: str) -> PhysicalPlan:
    """Every call lazy: the optimizer is off, or the statement is a shape it does not plan."""
    return PhysicalPlan(final_sql=plan.tree.sql(dialect="duckdb"), calls=plan.calls,
                        lazy={name: reason for name in plan.calls}, planned=False,
                        explain=plan.explain)
