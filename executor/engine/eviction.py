"""Which cached block to drop when the pool needs a free one.

A block is *evictable* when no running sequence holds it (reference count 0) but it still has a
content hash, so a later request with the same prefix could reuse it. Policies only order the
evictable set; the block manager owns the blocks themselves. Three policies:

* ``lru``: least recently released first (vLLM, SGLang);
* ``lfu``: fewest reuses first, ties least recently released;
* ``plan``: Belady's MIN (``plan.py``): the block whose next use in the known request order is
  furthest away. A SQL query knows its request list before it runs; serving systems do not.

The block manager reports each waiting sequence (``expect``) and each admission (``admitted``),
and ``Engine.generate`` reports requests yet to come (``set_future``); only ``plan`` listens.
"""
from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict


class EvictionPolicy:
    """Interface: told when a block becomes evictable or is reused, asked for a victim."""

    name = "base"

    def bind(self, blocks) -> None:
        """Called once by the block manager that owns this policy."""
        self.blocks = blocks

    def add(self, block_id: int) -> None:
        raise NotImplementedError

    def remove(self, block_id: int) -> None:
        raise NotImplementedError

    def victim(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    # Knowledge of the request order; ignored by policies that do not use it.
    def expect(self, seq) -> None:
        """``seq`` is waiting to be admitted."""

    def admitted(self, seq) -> None:
        """``seq`` left the waiting queue."""

    def set_future(self, prompts: list[list[int]]) -> None:
        """Prompts that will be submitted after everything now waiting, in order."""

    def forget(self) -> None:
        """Every waiting sequence was dropped (after an error or a cancel)."""


class LRUEviction(EvictionPolicy):
    """Least recently released first, as vLLM and SGLang do.

    The block manager releases a sequence's blocks tail first, so within one sequence the
    deepest (least shareable) blocks go before the shared prefix.
    """

    name = "lru"

    def __init__(self) -> None:
        self._order: OrderedDict[int, None] = OrderedDict()

    def add(self, block_id: int) -> None:
        self._order[block_id] = None
        self._order.move_to_end(block_id)

    def remove(self, block_id: int) -> None:
        self._order.pop(block_id, None)

    def victim(self) -> int:
        block_id, _ = self._order.popitem(last=False)
        return block_id

    def __len__(self) -> int:
        return len(self._order)


class LazyHeap:
    """A min-heap of entries whose last item is the key, with one live entry per key.

    Pushing a key again supersedes its old entry, and discarding a key is O(1): dead entries
    stay in the heap until ``pop`` meets them, and are dropped all at once when they outnumber
    the live ones, so a long-lived engine's heap does not grow without bound. The ``lfu`` and
    ``plan`` policies both keep their evictable blocks in one.
    """

    def __init__(self) -> None:
        self._heap: list[tuple] = []
        self._live: dict[int, tuple] = {}

    def push(self, entry: tuple) -> None:
        self._live[entry[-1]] = entry
        heapq.heappush(self._heap, entry)
        if len(self._heap) > 4 * len(self._live) + 1024:
            self._heap = list(self._live.values())
            heapq.heapify(self._heap)

    def discard(self, key: int) -> bool:
        """Remove ``key``; whether it was there."""
        return self._live.pop(key, None) is not None

    def pop(self) -> int:
        """The key of the smallest live entry, removed."""
        while True:
            entry = heapq.heappop(self._heap)
            if self._live.get(entry[-1]) is entry:
                del self._live[entry[-1]]
                return entry[-1]

    def __contains__(self, key: int) -> bool:
        return key in self._live

    def __len__(self) -> int:
        return len(self._live)


class LFUEviction(EvictionPolicy):
    """Fewest reuses first, ties least recently released: a block shared by many requests
    (an instruction, a movie's description) outlives one-off review tails even when its last
    use is older. The count starts afresh when a block is reused for other content."""

    name = "lfu"

    def __init__(self) -> None:
        self._heap = LazyHeap()
        self._hits: dict[int, int] = {}
        self._clock = itertools.count()

    def add(self, block_id: int) -> None:
        self._heap.push((self._hits.get(block_id, 0), next(self._clock), block_id))

    def remove(self, block_id: int) -> None:
        if self._heap.discard(block_id):
            self._hits[block_id] = self._hits.get(block_id, 0) + 1

    def victim(self) -> int:
        bid = self._heap.pop()
        self._hits.pop(bid, None)
        return bid

    def __len__(self) -> int:
        return len(self._heap)


def _policies() -> dict[str, type]:
    from .plan import PlanEviction

    return {cls.name: cls for cls in (LRUEviction, LFUEviction, PlanEviction)}


EVICTION_NAMES = ("lru", "lfu", "plan")


def make_eviction_policy(name: str) -> EvictionPolicy:
    from .errors import InvalidRequestError

    policies = _policies()
    if name not in policies:
        raise InvalidRequestError(
            f"unknown eviction policy {name!r}; choose one of {sorted(policies)}")
    return policies[name]()
