"""Per-row field orders, chosen group by group: which field a row's prompt lists first.

Why: with ``field_order := 'auto'`` the optimizer may reorder a call's fields, and one order
for every row leaves sharing behind. Take reviews of movies with a short, frequent field
(``reviewtype: Fresh``) and a long one shared by each movie's reviews (``movieinfo``): listing
``movieinfo`` first shares it among a movie's reviews, but for the rows of a movie with one
review, ``reviewtype`` first shares more. GGR (Liu et al., arXiv 2403.05821, Algorithm 1) gives
each group of rows its own order: pick the value whose rows share the most when it leads, put
it first for those rows, recurse on them with the other fields, and go on with the rest.

``FieldOrders`` is that recursion's result as a rule any row can follow, seen in the sample or
not: the first group whose field holds the row's value decides the leading field, and that
group's own ``FieldOrders`` the rest. Equal rows always get equal orders, so each distinct
input still renders one prompt.

Example, fields (type, info, review)::

    groups: info = 'A tale of two...' -> (info, then (type, review))
            type = 'Fresh'            -> (type, then (info, review))
    leaf:   (type, info, review)
"""
from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

__all__ = ["FieldOrders", "value_text", "group_orders", "ggr_score", "token_score", "line_hit_rate",
           "sharing_bound"]


def value_text(value) -> str:
    """A field value as a prompt shows it (``name: NULL`` for a NULL)."""
    return "NULL" if value is None else str(value)


@dataclass(frozen=True, eq=False)
class FieldOrders:
    """A rule that gives every row its field order (field indexes, all of them)."""

    leaf: tuple[int, ...]                                 # the order when no group matches
    groups: tuple[tuple[int, str, "FieldOrders"], ...] = ()   # (field, value text, then)

    def __post_init__(self) -> None:
        index: dict[int, dict[str, int]] = {}
        for g, (f, text, _) in enumerate(self.groups):
            index.setdefault(f, {}).setdefault(text, g)
        object.__setattr__(self, "_index", index)

    @classmethod
    def fixed(cls, permutation: Sequence[int]) -> "FieldOrders":
        """One order for every row."""
        return cls(tuple(permutation))

    def order_of(self, values: Sequence) -> tuple[int, ...]:
        """The field order of the row with these values (all the call's fields)."""
        hits = [g.get(value_text(values[f])) for f, g in self._index.items()]
        first = min((h for h in hits if h is not None), default=None)
        if first is None:
            return self.leaf
        field, _, then = self.groups[first]
        return (field, *then.order_of(values))

    @property
    def is_fixed(self) -> bool:
        return not self.groups

    def count_groups(self) -> int:
        """Groups with an order of their own, nested ones included (EXPLAIN shows it)."""
        return sum(1 + then.count_groups() for _, _, then in self.groups)


Score = Callable[[int, int], float]


def token_score(length: int, rows: int) -> float:
    """Tokens saved when a value of ``length`` tokens leads ``rows`` rows: every row after the
    first reads it from the cache."""
    return length * (rows - 1)


def ggr_score(length: int, rows: int) -> float:
    """GGR's hit count (Algorithm 1, without functional dependencies): the square of the
    value's length times the rows after the first."""
    return length * length * (rows - 1)


def group_orders(rows: Sequence[Sequence], length: Callable[[int, str], int],
                 score: Score = token_score,
                 fields: tuple[int, ...] | None = None) -> FieldOrders:
    """GGR's recursion over ``rows`` (each row all the call's field values): the best-scoring
    (field, value) leads its rows, which recurse on the other fields; the rest go on until no
    value is shared. ``length(field, text)`` is the size of that field's line in the prompt;
    ``score(length, rows)`` ranks a candidate."""
    if fields is None:
        fields = tuple(range(len(rows[0]))) if rows else ()
    texts = [[value_text(v) for v in r] for r in rows]
    return _orders(texts, list(range(len(rows))), fields, length, score)


def _orders(texts: list[list[str]], members: list[int], fields: tuple[int, ...],
            length: Callable[[int, str], int], score: Score) -> FieldOrders:
    if len(fields) < 2 or len(members) < 2:
        return FieldOrders(fields)
    rows_of: dict[tuple[int, str], list[int]] = {}
    for i in members:
        row = texts[i]
        for f in fields:
            rows_of.setdefault((f, row[f]), []).append(i)
    counts = {key: len(rows) for key, rows in rows_of.items()}
    heap = [(-score(length(*key), c), key) for key, c in counts.items() if c > 1]
    heapq.heapify(heap)
    left = set(members)
    groups = []
    while heap:
        negative, key = heapq.heappop(heap)
        current = score(length(*key), counts[key]) if counts[key] > 1 else 0
        if current <= 0:
            continue
        if current < -negative:          # stale: its rows shrank since it was pushed
            heapq.heappush(heap, (-current, key))
            continue
        f, t = key
        chosen = [i for i in rows_of[key] if i in left]
        rest = tuple(g for g in fields if g != f)
        groups.append((f, t, _orders(texts, chosen, rest, length, score)))
        for i in chosen:
            left.discard(i)
            row = texts[i]
            for g in fields:
                counts[(g, row[g])] -= 1
    return FieldOrders(fields, tuple(groups))


def line_hit_rate(rows: Sequence[Sequence], orders: FieldOrders,
                  length: Callable[[int, str], int], lead: int = 0) -> float:
    """The prefix hit rate of ``orders`` over distinct ``rows``, counted in whole prompt lines
    (a line weighs ``length(field, text)``; ``lead``, the instruction's length, leads every
    prompt): the share of the prompts that an earlier prompt already computed, every distinct
    prefix once. Lines stand in for tokens, so orders compare without rendering or tokenizing
    a prompt."""
    sequences = sorted(tuple((f, value_text(r[f])) for f in orders.order_of(r)) for r in rows)
    total = shared = 0
    previous: tuple = ()
    for seq in sequences:
        weights = [length(f, t) for f, t in seq]
        total += lead + sum(weights)
        common = next((k for k, (a, b) in enumerate(zip(previous, seq)) if a != b),
                      min(len(previous), len(seq)))
        shared += (lead if previous else 0) + sum(weights[:common])
        previous = seq
    return shared / total if total else 0.0


def sharing_bound(rows: Sequence[Sequence], length: Callable[[int, str], int],
                  lead: int = 0) -> float:
    """No field order shares more over distinct ``rows``: every repeat of a value could at
    best read it from the cache, in whichever field order (and the instruction leads every
    prompt)."""
    if not rows:
        return 0.0
    total = shared = lead * len(rows)
    shared -= lead
    for f in range(len(rows[0])):
        for text, count in Counter(value_text(r[f]) for r in rows).items():
            total += count * length(f, text)
            shared += (count - 1) * length(f, text)
    return shared / total if total else 0.0
