"""Which cached block to drop when the pool needs a free one.

A block is *evictable* when no running sequence holds it (reference count 0) but it still has a
content hash, so a later request with the same prefix could reuse it. Policies only order the
evictable set; the block manager owns the blocks themselves.
"""
from __future__ import annotations

from collections import OrderedDict


class EvictionPolicy:
    """Interface: told when a block becomes evictable or is reused, asked for a victim."""

    name = "base"

    def add(self, block_id: int) -> None:
        raise NotImplementedError

    def remove(self, block_id: int) -> None:
        raise NotImplementedError

    def victim(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


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


EVICTION_POLICIES = {cls.name: cls for cls in (LRUEviction,)}


def make_eviction_policy(name: str) -> EvictionPolicy:
    from .errors import InvalidRequestError

    if name not in EVICTION_POLICIES:
        raise InvalidRequestError(
            f"unknown eviction policy {name!r}; choose one of {sorted(EVICTION_POLICIES)}")
    return EVICTION_POLICIES[name]()
