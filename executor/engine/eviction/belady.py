"""``belady`` eviction (also accepted as ``plan``): Belady's MIN over the known request order.

Why it can work here: a SQL query's inference requests are all known before the first one runs,
and the optimizer hands the engine their order (``Engine.generate(requests, future=...)``).
Every waiting request will read the full cached blocks of its prompt (identified by the same
chained content keys as the block manager's), so a cached block's *next use* is the earliest
position, in submitted order, of a waiting or future request whose prompt holds its key. The
victim is the evictable block whose next use is furthest away; never-used-again blocks go first.
Ties (the blocks of one shared prefix are next used by the same request) go deepest first, so a
prefix chain is cut from its end and what remains of it is still reachable.

A reader also copies the leading slots of a cached block whose full key is not on its chain
(token-level tails: a movie's description ends inside a block that holds the previous review's
first words, or a choice child re-reads its lead's partial last block). So each reader also
registers the *stem* of each block it may read (parent key and first token), and the newest
evictable block of a stem carries the stem's next use: one block per stem, because any of its
siblings gives the reader the same shared slots, and protecting them all would crowd out
prefixes that are needed.

Bookkeeping is incremental: each key and stem keeps the sorted positions of the requests that
will use it, and a lazily invalidated max-heap keeps the evictable blocks by next use.
"""
from __future__ import annotations

import bisect
import itertools

from ..prefix_keys import chain_keys, chain_stems, readable_limit, sequence_keys, stem_key
from .base import EvictionPolicy
from .lazy_heap import LazyHeap

NEVER = 1 << 63
_FUTURE = 1 << 62


def position(arrival: tuple[int, int]) -> int:
    """A sequence's place in the submitted order, as one comparable int."""
    return (arrival[0] << 32) | arrival[1]


class BeladyEviction(EvictionPolicy):
    name = "belady"
    uses_future = True

    def __init__(self) -> None:
        self._uses: dict[int, list[int]] = {}       # key or stem -> sorted positions of readers
        self._rep: dict[int, int] = {}              # stem -> the block that carries its next use
        self._reg: dict[object, tuple[int, list[int]]] = {}   # reader -> (position, keys)
        self._heap = LazyHeap()                     # evictable blocks, furthest next use first
        self._clock = itertools.count()

    # ---- who will read what ---------------------------------------------------------------
    def expect(self, seq) -> None:
        if seq.seq_id not in self._reg:
            bs, limit = self.blocks.block_size, readable_limit(seq)
            keys = sequence_keys(seq, bs, limit // bs)
            stems = chain_stems(seq.token_ids, bs, keys, limit)
            self._register(seq.seq_id, position(seq.arrival), keys + stems)

    def admitted(self, seq) -> None:
        self._unregister(seq.seq_id)

    def forget(self) -> None:
        for reader in [r for r in self._reg if not isinstance(r, tuple)]:
            self._unregister(reader)

    def set_future(self, prompts: list[list[int]]) -> None:
        for reader in [r for r in self._reg if isinstance(r, tuple)]:
            self._unregister(reader)
        bs = self.blocks.block_size
        for j, tokens in enumerate(prompts):
            keys = chain_keys(tokens, bs, (len(tokens) - 1) // bs)
            stems = chain_stems(tokens, bs, keys, len(tokens) - 1)
            self._register(("future", j), _FUTURE + j, keys + stems)

    def _register(self, reader, pos: int, keys: list[int]) -> None:
        self._reg[reader] = (pos, keys)
        for key in keys:
            uses = self._uses.setdefault(key, [])
            first = uses[0] if uses else NEVER
            bisect.insort(uses, pos)
            if pos < first:
                self._refresh(key)

    def _unregister(self, reader) -> None:
        pos, keys = self._reg.pop(reader, (None, ()))
        for key in keys:
            uses = self._uses.get(key)
            if not uses:
                continue
            i = bisect.bisect_left(uses, pos)
            if i < len(uses) and uses[i] == pos:
                uses.pop(i)
                if not uses:
                    del self._uses[key]
                if i == 0:
                    self._refresh(key)

    def _first_use(self, key: int) -> int:
        uses = self._uses.get(key)
        return uses[0] if uses else NEVER

    def _stem(self, block_id: int) -> int:
        return stem_key(self.blocks.parent_of[block_id], self.blocks.tokens_of[block_id][0])

    def next_use(self, block_id: int) -> int:
        """The earliest reader of the block's full key or, if it carries its stem, of that."""
        use = self._first_use(self.blocks.key_of[block_id])
        stem = self._stem(block_id)
        if self._rep.get(stem) == block_id:
            use = min(use, self._first_use(stem))
        return use

    def _refresh(self, key: int) -> None:
        """``key`` (a full key or a stem) has a new first reader: re-rank its block."""
        for bid in (self.blocks.by_key.get(key), self._rep.get(key)):
            if bid is not None and bid in self._heap:
                self._push(bid)

    # ---- the evictable set ----------------------------------------------------------------
    def _push(self, bid: int) -> None:
        self._heap.push((-self.next_use(bid), -self.blocks.depth_of[bid], next(self._clock), bid))

    def add(self, block_id: int) -> None:
        """``block_id`` became evictable: it is now the newest block of its stem."""
        stem = self._stem(block_id)
        old = self._rep.get(stem)
        self._rep[stem] = block_id
        if old is not None and old != block_id and old in self._heap:
            self._push(old)
        self._push(block_id)

    def remove(self, block_id: int) -> None:
        self._heap.discard(block_id)
        self._drop_rep(block_id)

    def spare_until(self, arrival: tuple[int, int], limit: int) -> int:
        return self._heap.count_below((-position(arrival),), limit)

    def victim(self) -> int:
        bid = self._heap.pop()
        self._drop_rep(bid)
        return bid

    def _drop_rep(self, block_id: int) -> None:
        """``block_id`` is no longer evictable: it stops carrying its stem (a stem's carrier is
        always an evictable block, so the map stays as small as the pool)."""
        stem = self._stem(block_id)
        if self._rep.get(stem) == block_id:
            del self._rep[stem]

    def __len__(self) -> int:
        return len(self._heap)
