"""Rows, and with permission fields, ordered so that prompts share prefixes.

Every planned operator sends its requests sorted by token ids, which walks the prefix trie
depth first (``executor/prefix_sharing.py``): rows of one movie, whose prompts share the movie's
fields, run back to back, so its prefix is computed once and evicted only when no row needs
it again. That reaches the bound for a fixed field order, whatever the table order and however
small the KV cache.

Field order belongs to the user: a row's answer must not depend on the plan. With
``field_order := 'auto'`` on a call (or ``reorder_fields=True`` on ``connect()``) the rule also
picks each row's field order (``executor/field_orders.py``)::

    LLM_FILTER('Recommend?', reviewtype, review, movie_info, field_order := 'auto')
    -- a movie's rows lead with movie_info, shared by its reviews; the rows of movies with
    -- one review lead with reviewtype, shared by every 'Fresh' review

The candidates: the written order, every fixed order up to four fields, GGR's groups (Liu et
al., arXiv 2403.05821, Algorithm 1: squared characters) and the same recursion scored by the
tokens a group saves; the one sharing the most prompt tokens wins. Otherwise EXPLAIN shows
what the reordering would reach, beside GGR's and the bound no order can pass; a statement
that is not explained skips that search.
"""
from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

from executor.field_orders import (FieldOrders, ggr_score, group_orders, line_hit_rate,
                                   sharing_bound, token_score, value_text)
from executor.llm_call import LLMCall

from ..context import PlanningContext
from ..logical import LogicalPlan
from ..profile import profile

_SEARCH_ROWS = 20_000        # rows compared when choosing field orders
_EXHAUSTIVE = 4              # up to this many fields, every fixed order is tried


@dataclass(frozen=True)
class FieldChoice:
    orders: FieldOrders
    hit_rate: float          # of the chosen orders, in prompt tokens, whole lines
    ggr: float               # of GGR's orders
    bound: float             # no order shares more


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
            best = (best_field_orders(call, found.head(_SEARCH_ROWS), _tokenizer(call, ctx))
                    if found is not None else None)
            if best is not None:
                e = node.estimate
                e.hit_rate_fields_auto, e.hit_rate_fields_ggr = best.hit_rate, best.ggr
                e.hit_rate_fields_bound = best.bound
            written = best is None or (best.orders.is_fixed
                                       and best.orders.leaf == tuple(range(len(best.orders.leaf))))
            chosen[call.sql] = (dataclasses.replace(call, field_orders=best.orders)
                                if auto and not written else call)
        node.call = chosen[call.sql]
    for name, (call, arity) in list(plan.calls.items()):
        if call.sql in chosen:
            plan.calls[name] = (chosen[call.sql], arity)
    return plan


def best_field_orders(call: LLMCall, rows: list[tuple], tokenizer) -> FieldChoice | None:
    """The field orders whose prompts share the most prompt tokens over the (distinct) rows;
    ties keep the written order. ``tokenizer``: the call's model's (None: characters / 4)."""
    rows = list(dict.fromkeys(rows[:_SEARCH_ROWS]))
    if not rows:
        return None
    length = _LineTokens(call, tokenizer, rows)
    n = len(call.field_names)
    lead = length(-1, call.instruction or "")
    fixed = (itertools.permutations(range(n)) if n <= _EXHAUSTIVE
             else [tuple(range(n))])
    ggr = group_orders(rows, length.chars, ggr_score)
    candidates = [FieldOrders.fixed(p) for p in fixed]
    candidates += [group_orders(rows, length, token_score), ggr]
    rates = [line_hit_rate(rows, c, length, lead) for c in candidates]
    best = max(range(len(candidates)), key=lambda i: rates[i])   # the first on ties
    return FieldChoice(candidates[best], rates[best], rates[-1],
                       sharing_bound(rows, length, lead))


def _tokenizer(call: LLMCall, ctx: PlanningContext):
    try:
        return ctx.runtime.models.tokenizer(call.model)
    except Exception:          # noqa: BLE001 - an estimate's units, never a failure
        return None


class _LineTokens:
    """Tokens of one field's prompt line (``name: value``) in the call's tokenizer, every
    distinct line of ``rows`` tokenized in one batch; field -1 is the instruction. A quarter of
    the characters stands in when the tokenizer cannot load."""

    def __init__(self, call: LLMCall, tokenizer, rows: list[tuple]) -> None:
        self.names = call.field_names
        keys = list(dict.fromkeys([(-1, call.instruction or "")] + [
            (f, value_text(v)) for r in rows for f, v in enumerate(r)]))
        lines = [self.line(f, t) for f, t in keys]
        counts = ([len(ids) for ids in tokenizer(lines, add_special_tokens=False)["input_ids"]]
                  if tokenizer is not None else [max(1, len(line) // 4) for line in lines])
        self.known = dict(zip(keys, counts))

    def line(self, field: int, text: str) -> str:
        return text + "\n" if field < 0 else f"{self.names[field]}: {text}\n"

    def chars(self, field: int, text: str) -> int:
        return len(self.line(field, text))

    def __call__(self, field: int, text: str) -> int:
        return self.known[(field, text)]
