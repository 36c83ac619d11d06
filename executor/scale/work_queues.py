"""Each worker's queue of routed units, and work stealing between them.

Why: routing (``executor.engine.routing.route``) balances the workers by *estimated* cost; a
worker on a slower node, or one whose answers run longer than expected, would still set the
makespan. So each worker takes from the head of its own queue (its share, in trie order, so
its prefixes stay warm), and a worker whose queue is empty steals whole units from the tail of
the busiest queue: the work furthest from what that worker is computing now, and a whole
subtree, so only the prefix it shares with its neighbour is computed twice. A thief takes at
most half of what the victim has queued. A lost worker's queue is handed back whole, for
re-planning over the survivors.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Piece:
    """Whole subtrees of one operator: request indexes in trie order, and their estimated
    cost. A routed ``Unit`` becomes one piece; a re-planned one maps its positions back."""

    indexes: Sequence[int]
    cost: float


class WorkQueues:
    def __init__(self) -> None:
        self._queues: dict[int, deque[Piece]] = {}
        self.steals = 0                       # pieces taken from another worker's tail

    def assign(self, worker: int, pieces: list[Piece]) -> None:
        self._queues.setdefault(worker, deque()).extend(p for p in pieces if len(p.indexes))

    def queued_cost(self, worker: int) -> float:
        return sum(p.cost for p in self._queues.get(worker, ()))

    def queued(self, worker: int) -> int:
        return sum(len(p.indexes) for p in self._queues.get(worker, ()))

    def take(self, worker: int, want: int) -> list[int]:
        """The next batch for ``worker``, about ``want`` requests of whole pieces: from the
        head of its own queue, else stolen from the tail of the busiest queue. Empty when
        there is nothing left anywhere."""
        own = self._queues.setdefault(worker, deque())
        pieces: list[Piece] = []
        while own and sum(len(p.indexes) for p in pieces) < want:
            pieces.append(own.popleft())
        if not pieces:
            pieces = self._steal(worker, want)
        return [i for p in pieces for i in p.indexes]

    def _steal(self, thief: int, want: int) -> list[Piece]:
        victims = [w for w, q in self._queues.items() if w != thief and q]
        if not victims:
            return []
        victim = max(victims, key=self.queued_cost)
        queue, half = self._queues[victim], self.queued_cost(victim) / 2
        taken: list[Piece] = [queue.pop()]
        while (queue and sum(len(p.indexes) for p in taken) < want
               and sum(p.cost for p in taken) + queue[-1].cost <= half):
            taken.append(queue.pop())
        self.steals += len(taken)
        return taken[::-1]                    # back in trie order

    def upcoming(self, worker: int, limit: int) -> list[int]:
        """The first ``limit`` request indexes still queued for ``worker``: its future."""
        out: list[int] = []
        for piece in self._queues.get(worker, ()):
            if len(out) >= limit:
                break
            out.extend(piece.indexes[:limit - len(out)])
        return out

    def drop(self, worker: int) -> list[int]:
        """Forget a lost worker's queue; the request indexes it held."""
        return [i for p in self._queues.pop(worker, ()) for i in p.indexes]

    def empty(self) -> bool:
        return not any(self._queues.values())
