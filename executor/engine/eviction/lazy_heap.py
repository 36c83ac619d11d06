"""A min-heap with O(1) removal by key: the evictable set of the ``lfu`` and ``belady`` policies.

Why lazy: a cached block leaves the evictable set every time a request reuses it, far more
often than a victim is chosen, so removal must not search the heap.
"""
from __future__ import annotations

import heapq


class LazyHeap:
    """A min-heap of entries whose last item is the key, with one live entry per key.

    Pushing a key again supersedes its old entry, and discarding a key is O(1): dead entries
    stay in the heap until ``pop`` meets them, and are dropped all at once when they outnumber
    the live ones, so a long-lived engine's heap does not grow without bound.
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

    def count_below(self, bound: tuple, limit: int) -> int:
        """How many live entries are smaller than ``bound``, counting no further than
        ``limit``. Walks only the top of the heap: a node that is not smaller than ``bound``
        has no smaller descendant, so the cost grows with the count, not with the heap."""
        count, stack, heap = 0, [0], self._heap
        while stack and count < limit:
            i = stack.pop()
            if i >= len(heap) or not heap[i] < bound:
                continue
            if self._live.get(heap[i][-1]) is heap[i]:
                count += 1
            stack += (2 * i + 1, 2 * i + 2)
        return count

    def __contains__(self, key: int) -> bool:
        return key in self._live

    def __len__(self) -> int:
        return len(self._live)
