"""What an LLM predicate lets through, read off its shape.

    LLM_FILTER(...)                      -> passes "yes"
    NOT LLM_FILTER(...)                  -> passes "no"
    LLM_CLASSIFY(...) = 'spam'           -> passes "spam"
    LLM_CLASSIFY(...) IN ('a', 'b')      -> passes "a" or "b"

Knowing it lets the optimizer measure selectivity from answers alone and stop an operator as
soon as a LIMIT has enough rows. Any other shape returns None: the predicate still runs, it is
just not ranked by measurement nor streamed.
"""
from __future__ import annotations

from sqlglot import exp

from .logical import LLMNode


def passing_answers(node: LLMNode) -> tuple[str, ...] | None:
    c = node.conjunct
    if c is None:
        return None
    c = c.unnest()
    call = node.node
    if c is call and node.call.kind == "filter":
        return ("yes",)
    if isinstance(c, exp.Not) and c.this.unnest() is call and node.call.kind == "filter":
        return ("no",)
    if isinstance(c, exp.Is) and c.this is call and node.call.kind == "filter":
        if isinstance(c.expression, exp.Boolean):
            return ("yes",) if c.expression.this else ("no",)
    if isinstance(c, exp.EQ):
        for a, b in ((c.this, c.expression), (c.expression, c.this)):
            if a is call and isinstance(b, exp.Literal) and b.is_string:
                return (b.this,)
    if isinstance(c, exp.In) and c.this is call and c.expressions and all(
            isinstance(e, exp.Literal) and e.is_string for e in c.expressions):
        return tuple(e.this for e in c.expressions)
    return None
