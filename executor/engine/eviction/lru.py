"""``lru`` eviction: least recently released first, as vLLM and SGLang do."""
from __future__ import annotations

from collections import OrderedDict

from .base import EvictionPolicy


class LRUEviction(EvictionPolicy):
    """Least recently released first.

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
