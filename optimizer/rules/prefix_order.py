"""Rows, and with permission fields, ordered so that prompts share prefixes.

Every planned operator sends its requests sorted by token ids, which walks the prefix trie
depth first (``executor/prefix_order.py``): rows of one movie, whose prompts share the movie's
fields, run back to back, so its prefix is computed once and evicted only when no row needs
it again. That reaches the bound GGR aims at (Liu et al., arXiv 2403.05821) for a fixed field
order, whatever the table order and however small the KV cache.

Field order belongs to the user: a row's answer must not depend on the plan. With
``field_order := 'auto'`` on a call (or ``reorder_fields=True`` on ``connect()``) the rule also
picks the field order with the highest prefix hit rate over the call's rows::

    LLM_FILTER('Recommend?', review, movie_info, field_order := 'auto')
    -- movie_info is shared by every review of a movie: it goes first

Otherwise EXPLAIN shows the hit rate that the reordering would reach; a statement that is
not explained skips that search.
"""
from __future__ import annotations

import dataclasses
import itertools

from executor.llm_call import LLMCall
from executor.prefix_sharing import hit_rate

from ..context import PlanningContext
from ..logical import LogicalPlan
from ..profile import profile

_SEARCH_ROWS = 1000          # rows compared when choosing a field order
_EXHAUSTIVE = 4              # up to this many fields, every order is tried


def prefix_order(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    chosen: dict[str, LLMCall] = {}
    for node in plan.nodes:
        node.order = "prefix"
        call = node.call
        if len(call.field_names) < 2:
            continue
        if call.sql not in chosen:
            auto = call.field_order == "auto" or plan.reorder_fields
            # The search serves a reordering, or EXPLAIN's figure of what one would gain.
            found = profile(node, plan, ctx) if auto or plan.explain else None
            best = best_field_order(call, found.head(_SEARCH_ROWS)) if found is not None else None
            node.estimate.hit_rate_fields_auto = best[1] if best else None
            chosen[call.sql] = (dataclasses.replace(call, field_permutation=best[0])
                                if auto and best and best[0] != tuple(range(len(best[0])))
                                else call)
        node.call = chosen[call.sql]
    for name, (call, arity) in list(plan.calls.items()):
        if call.sql in chosen:
            plan.calls[name] = (chosen[call.sql], arity)
    return plan


def best_field_order(call: LLMCall, rows: list[tuple]) -> tuple[tuple[int, ...], float] | None:
    """The field permutation whose prompts share the most (and that hit rate), over a sample
    of the rows; ties keep the written order."""
    rows = rows[:_SEARCH_ROWS]
    if not rows:
        return None
    n = len(call.field_names)
    if n <= _EXHAUSTIVE:
        candidates = list(itertools.permutations(range(n)))
    else:    # fewest distinct values first: the longest runs of equal leading fields
        distinct = [len({r[i] for r in rows}) for i in range(n)]
        candidates = [tuple(range(n)), tuple(sorted(range(n), key=lambda i: distinct[i]))]
    scored = []
    for perm in candidates:
        variant = dataclasses.replace(call, field_permutation=perm)
        texts = [p for p in (variant.render(list(r)) for r in rows) if p is not None]
        scored.append((hit_rate(texts), perm))
    best = max(scored, key=lambda s: s[0])     # max keeps the first (written order) on ties
    return best[1], best[0]
