"""A look at the rows that reach an LLM call before anything runs: the optimizer's statistics.

For an operator whose input depends on no LLM answer (the common first operator), DuckDB
computes its driver query (relational work only, cheap next to inference). Field order,
predicate order and the estimates all read the profile, and it is computed once per call per
plan, each figure only when a rule asks for it: a plan that needs none of them (a streamed
LIMIT over 32k candidate pairs, say) must not pay for rendering them all.
"""
from __future__ import annotations

from functools import cached_property

from executor.llm_call import LLMCall
from executor.llm_runtime import PromptBatch

from .context import PlanningContext
from .drivers import driver_sql
from .logical import LLMNode, LogicalPlan


class Profile:
    """The call's input rows, its distinct prompts and the rows reaching it, on demand."""

    def __init__(self, call: LLMCall, sqls: tuple[str, str], ctx: PlanningContext) -> None:
        self.call, self.sql, self._count_sql, self._ctx = call, sqls[0], sqls[1], ctx

    @cached_property
    def rows(self) -> list[tuple]:
        """The distinct argument tuples."""
        return self._ctx.rows(self.sql)

    def head(self, n: int) -> list[tuple]:
        """Some ``n`` of the distinct argument tuples (the first ``n`` of ``rows``, when they
        were read), without reading the others into Python."""
        if "rows" in self.__dict__:
            return self.rows[:n]
        return self._ctx.rows(f"SELECT * FROM ({self.sql}) LIMIT {int(n)}")

    @cached_property
    def _batch(self) -> PromptBatch:
        return self._ctx.runtime.prepare(self.call, self.rows)

    @property
    def prompts(self) -> list[str]:
        """The distinct prompts (NULL prompts dropped)."""
        return self._batch.unique

    @cached_property
    def prompt_rows(self) -> list[tuple]:
        """The first row of each prompt, aligned with ``prompts``."""
        return [self._batch.first_row[p] for p in self.prompts]

    @cached_property
    def input_rows(self) -> int:
        """Rows reaching the call, duplicates included."""
        return self._ctx.rows(self._count_sql)[0][0]


def spread(items: list, n: int) -> list:
    """At most ``n`` of ``items``, evenly spread over them (reproducibly)."""
    return items[::max(1, len(items) // n)][:n] if n > 0 else []


def independent_sql(node: LLMNode, plan: LogicalPlan) -> tuple[str, str] | None:
    """The node's input as if no LLM operator ran before it: (its rows, their count); None
    if that needs an answer (its input reads an LLM result)."""
    sql = driver_sql(node, plan, ready=set())
    return None if sql is None else (sql, driver_sql(node, plan, ready=set(), rows=True))


def profile(node: LLMNode, plan: LogicalPlan, ctx: PlanningContext) -> Profile | None:
    """The node's input as if no LLM operator ran before it; None if that needs an answer
    or cannot be computed on its own (a correlated subquery)."""
    return profile_of(node.call, independent_sql(node, plan), ctx)


def profile_of(call: LLMCall, sqls: tuple[str, str] | None,
               ctx: PlanningContext) -> Profile | None:
    """The profile of ``call`` over the rows of ``sqls`` (see ``independent_sql``)."""
    key = (sqls, call)
    if key not in ctx.profiles:
        ctx.profiles[key] = (Profile(call, sqls, ctx) if sqls is not None and ctx.binds(sqls[0])
                             else None)
    return ctx.profiles[key]
