"""``lfu`` eviction: fewest reuses first, ties least recently released."""
from __future__ import annotations

import itertools

from .base import EvictionPolicy
from .lazy_heap import LazyHeap


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
