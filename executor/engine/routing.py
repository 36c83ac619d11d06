"""Routing by prefix: one sorted request list cut into each worker's share of whole subtrees.

Why: requests in depth-first trie order (``executor.prefix_sharing.prefix_sorted``) use each
shared prefix in one contiguous run. Cut that list into contiguous ranges, one per worker, and
a prefix is computed on one worker only, except where a cut falls inside its run: then each
worker that gets part of it computes it once. So each cut goes near the point that balances
the workers' estimated cost, at a boundary between subtrees unless none is within what computing
the prefix again would cost (a few hundred tokens). Serving routers guess prefixes online
(Ray Serve, SGLang's router); a query knows them all before the first request runs.

Example: prompts of three movies (a ~200-token prefix each, then a review), 2 workers::

    "Q movie-A r1", "Q movie-A r2", "Q movie-B r1", ..., "Q movie-C r4"
    -> worker 0: A's and B's reviews, worker 1: C's    (cut where only "Q" is shared)

Each share is a list of ``Unit``s, runs of whole subtrees no costlier than a fraction of a
share: the grain at which an idle worker steals from the tail of a busy one
(``work_queues.py``), and at which a lost worker's unfinished requests are re-planned.
"""
from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Sequence

from .cost_model import CostModel
from .prefix_keys import common_prefix

__all__ = ["Unit", "Share", "neighbour_prefixes", "request_costs", "route", "units_of"]


@dataclass(frozen=True)
class Unit:
    """Requests ``start:stop`` of the sorted list: whole subtrees, routed and stolen as one."""

    start: int
    stop: int
    cost: float            # estimated seconds, with the prefix it shares with the unit before
    shared: int            # tokens it shares with the previous request: recomputed if it moves

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass
class Share:
    """One worker's part of an operator: contiguous units, in trie order."""

    worker: int
    units: list[Unit] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(u) for u in self.units)

    @property
    def cost(self) -> float:
        return sum(u.cost for u in self.units)

    def indexes(self) -> list[int]:
        return [i for u in self.units for i in range(u.start, u.stop)]


def neighbour_prefixes(prompts: Sequence[Sequence[int]]) -> list[int]:
    """Tokens each prompt shares with the one before it (0 for the first). In trie order this
    is the longest prefix any earlier prompt computed for it."""
    return [0] * bool(prompts) + [common_prefix(a, b) for a, b in zip(prompts, prompts[1:])]


def request_costs(prompts: Sequence[Sequence[int]], shared: Sequence[int],
                  decode_tokens: int | Sequence[int] = 1,
                  cost_model: CostModel | None = None) -> list[float]:
    """Estimated seconds of each request after its predecessor on the same worker: the
    prefill of its new tokens over the shared ones, and its decode tokens. Without a cost
    model, tokens computed stand in for seconds (a prefill and a decode token alike)."""
    decodes = ([decode_tokens] * len(prompts) if isinstance(decode_tokens, int)
               else list(decode_tokens))
    if cost_model is None:
        return [len(p) - s + d for p, s, d in zip(prompts, shared, decodes)]
    c = cost_model.coefficients
    per_decode = c.get("tokens", 0.0) + c.get("decode_seqs", 0.0)
    return [cost_model.prefill_seconds(len(p) - s, s) + cost_model.request_seconds(1)
            + d * (per_decode + c.get("decode_kv", 0.0) * len(p))
            for p, s, d in zip(prompts, shared, decodes)]


def units_of(shared: Sequence[int], costs: Sequence[float], max_cost: float,
             start: int = 0, stop: int | None = None) -> list[Unit]:
    """Split requests ``start:stop`` into units of whole subtrees: cut where neighbours share
    the least, then again inside any piece still costlier than ``max_cost``, down to single
    requests if it must."""
    stop = len(costs) if stop is None else stop
    out: list[Unit] = []
    pending = [(start, stop)]
    while pending:
        a, b = pending.pop()
        if a == b:
            continue
        cost = sum(costs[a:b])
        if cost <= max_cost or b - a == 1:
            out.append(Unit(a, b, cost, shared[a]))
            continue
        low = min(shared[a + 1:b])
        cuts = [i for i in range(a + 1, b) if shared[i] == low]
        bounds = [a, *cuts, b]
        pending.extend(reversed(list(zip(bounds, bounds[1:]))))
    out.sort(key=lambda u: u.start)
    return out


def route(prompts: Sequence[Sequence[int]], workers: int,
          decode_tokens: int | Sequence[int] = 1, cost_model: CostModel | None = None,
          grain: int = 8) -> list[Share]:
    """Each worker's share of ``prompts`` (token ids, already in trie order).

    Shares are contiguous and balanced by estimated cost: the k-th cut goes to the unit
    boundary that misses k/workers of the total by the least, counting as part of the miss
    the prefix its neighbours share, which the next worker must compute again. So a cut falls
    between subtrees unless none is within a prefix's cost of the balance point. Units are at
    most 1/``grain`` of a share, so stealing can rebalance what the estimate got wrong."""
    if workers < 1:
        raise ValueError(f"route: workers must be at least 1, not {workers}")
    shared = neighbour_prefixes(prompts)
    costs = request_costs(prompts, shared, decode_tokens, cost_model)
    total = sum(costs)
    units = units_of(shared, costs, total / (workers * grain) if total else 0.0)
    shares = [Share(w) for w in range(workers)]
    if not units:
        return shares
    ends = list(itertools.accumulate(u.cost for u in units))   # cost before unit j: ends[j - 1]
    prices = [_recompute_cost(u.shared, cost_model) for u in units]
    cuts, lo = [], 1                  # cuts[k]: index of the first unit of share k + 1
    for k in range(1, workers):
        if lo >= len(units):          # fewer units than workers: the last shares stay empty
            cuts.append(len(units))
            continue
        cuts.append(_best_cut(ends, prices, total * k / workers, lo))
        lo = cuts[-1] + 1
    bounds = [0, *cuts, len(units)]
    for w, (a, b) in enumerate(zip(bounds, bounds[1:])):
        shares[w].units = units[a:b]
    return shares


def _recompute_cost(tokens: int, cost_model: CostModel | None) -> float:
    """What computing a shared prefix again costs the worker after a cut (tokens without a
    cost model, as in ``request_costs``)."""
    if cost_model is None or tokens == 0:
        return float(tokens)
    return cost_model.prefill_seconds(tokens)


def _best_cut(ends: list[float], prices: list[float], target: float, lo: int) -> int:
    """The unit j >= ``lo`` to start the next share at: the least miss of ``target`` plus
    ``prices[j]`` (the nearer on a tie). The miss grows away from the unit nearest the target,
    so the search walks out from it and stops where the miss alone costs more than the best."""
    hi = len(ends)

    def key(j: int) -> tuple[float, float]:
        miss = abs(ends[j - 1] - target)
        return miss + prices[j], miss

    first = min(max(bisect.bisect_left(ends, target), lo), hi - 1)
    best, best_key = first, key(first)
    for step in (-1, 1):
        j = first + step
        while lo <= j < hi and key(j)[1] <= best_key[0]:
            if key(j) < best_key:
                best, best_key = j, key(j)
            j += step
    return best
