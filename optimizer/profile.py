"""A look at the rows that reach an LLM call before anything runs: the optimizer's statistics.

For an operator whose input depends on no LLM answer (the common first operator), DuckDB
computes its driver query (relational work only, cheap next to inference), and the profile
keeps the distinct prompts and their token counts. Field order, predicate order and the
estimates all read it, and it is computed once per call per plan.
"""
from __future__ import annotations

from dataclasses import dataclass

from executor.llm_call import LLMCall

from .context import PlanningContext
from .drivers import driver_sql
from .logical import LLMNode, LogicalPlan


@dataclass
class Profile:
    sql: str
    rows: list[tuple]                # distinct argument tuples
    prompts: list[str]               # distinct prompts (NULL prompts dropped)
    prompt_rows: list[tuple]         # the first row of each prompt, aligned with ``prompts``
    input_rows: int                  # rows reaching the call, duplicates included
    tokens: list[list[int]] | None = None

    @property
    def prompt_tokens(self) -> int:
        return sum(len(t) for t in self.tokens or [])


def independent_sql(node: LLMNode, plan: LogicalPlan) -> tuple[str, str] | None:
    """The node's input as if no LLM operator ran before it: (its rows, their count); None
    if that needs an answer (its input reads an LLM result)."""
    sql = driver_sql(node, plan, ready=set())
    return None if sql is None else (sql, driver_sql(node, plan, ready=set(), rows=True))


def profile(node: LLMNode, plan: LogicalPlan, ctx: PlanningContext,
            with_tokens: bool = True) -> Profile | None:
    """The node's input as if no LLM operator ran before it; None if that needs an answer
    or cannot be computed on its own (a correlated subquery)."""
    return profile_of(node.call, independent_sql(node, plan), ctx, with_tokens)


def profile_of(call: LLMCall, sqls: tuple[str, str] | None, ctx: PlanningContext,
               with_tokens: bool = True) -> Profile | None:
    """The profile of ``call`` over the rows of ``sqls`` (see ``independent_sql``)."""
    key = (sqls, call)
    if key not in ctx.profiles:
        if sqls is None or not ctx.binds(sqls[0]):
            ctx.profiles[key] = None
        else:
            rows = ctx.rows(sqls[0])
            batch = ctx.runtime.prepare(call, rows)
            ctx.profiles[key] = Profile(sqls[0], rows, batch.unique,
                                        [batch.first_row[p] for p in batch.unique],
                                        ctx.rows(sqls[1])[0][0])
    found = ctx.profiles[key]
    if found is not None and with_tokens and found.tokens is None:
        found.tokens = ctx.runtime.tokenize(call, found.prompts)
    return found
