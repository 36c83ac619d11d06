"""The optimizer's rules, applied in this order by ``optimizer.optimize``.

Each rule is one module and one function ``rule(plan, ctx) -> plan``, in the manner of
sqlglot's optimizer package: the order matters (field order changes the prompts whose cost
the predicate order weighs; the LIMIT rules need the predicates in their final order).
"""
from __future__ import annotations

from typing import Callable

from ..context import PlanningContext
from ..logical import LogicalPlan
from .deduplicate import deduplicate
from .order_predicates import order_predicates
from .place_projections import place_projections
from .prefix_order import prefix_order
from .pushdown_relational import pushdown_relational
from .stream_limit import stream_limit

OptimizerRule = Callable[[LogicalPlan, PlanningContext], LogicalPlan]

RULES: tuple[OptimizerRule, ...] = (
    pushdown_relational,
    deduplicate,
    prefix_order,
    order_predicates,
    place_projections,
    stream_limit,
)
