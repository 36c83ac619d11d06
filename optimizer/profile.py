"""A look at the rows that reach an LLM call before anything runs: the optimizer's statistics.

For an operator whose input depends on no LLM answer (the common first operator), DuckDB
computes its driver query (relational work only, cheap next to inference), and the profile
keeps the distinct prompts and their token counts. Field order, predicate order and the
estimates all read it, and it is computed once per call per plan.
"""
from __future__ import annotations

from dataclasses import dataclass

from .context import PlanningContext
from .drivers import driver_sql
from .logical import LLMNode, LogicalPlan


@dataclass
class Profile:
    sql: str
    rows: list[tuple]                # distinct argument tuples
    prompts: list[str]               # distinct prompts (NULL prompts dropped)
    input_rows: int                  # rows reaching the call, duplicates included
    tokens: list[list[int]] | None = None

    @property
    def prompt_tokens(self) -> int:
        return sum(len(t) for t in self.tokens or [])


def profile(node: LLMNode, plan: LogicalPlan, ctx: PlanningContext,
            with_tokens: bool = True) -> Profile | None:
    """The node's input as if no LLM operator ran before it; None if that needs an answer
    (its input reads an LLM result) or cannot be computed on its own (a correlated subquery)."""
    cache = ctx.profiles
    key = (id(node), node.call)
    if key not in cache:
        sql = driver_sql(node, plan, ready=set())
        if sql is None or not ctx.binds(sql):
            cache[key] = None
        else:
            rows = ctx.rows(sql)
            prompts = list(dict.fromkeys(p for p in ctx.runtime.render(node.call, rows)
                                         if p is not None))
            counted = ctx.rows(driver_sql(node, plan, ready=set(), rows=True))[0][0]
            cache[key] = Profile(sql, rows, prompts, counted)
    found = cache[key]
    if found is not None and with_tokens and found.tokens is None:
        found.tokens = ctx.tokenize(node.call, found.prompts)
    return found
