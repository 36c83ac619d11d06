"""The paged KV pool's bookkeeping: which block holds what, who holds it, what may be reused.

Blocks are content-addressed as in vLLM: a full block's key is a hash chained over (parent key,
its token ids), so equal prefixes map to equal blocks (``prefix_keys.py``). Blocks are reference-counted; a block no
sequence holds keeps its content and key (it is *evictable*) until the eviction policy hands it
out again. Two additions:

* **In-flight sharing.** A block is registered as soon as it is scheduled to be filled, not after.
  Inside one forward pass every layer writes all new K/V before any attention reads, so a second
  sequence scheduled in the same iteration may already attend over it.
* **Token-level tails.** A prefix that ends inside a block is still reused: the matching leading
  slots of a cached block are copied into a fresh block (a K/V copy, not a recompute), as a
  radix tree would share them.

Retention across queries: ``expire`` demotes cached blocks idle for longer than the break-even
time T* (the five-minute rule, ``CostModel.break_even_seconds``); they stay findable but are
handed out before anything the eviction policy still ranks.
"""
from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

from .eviction.base import EvictionPolicy
from .prefix_keys import ROOT, common_prefix, readable_limit, sequence_keys
from .sequence import Sequence


@dataclass
class PrefixMatch:
    """What the cache can give a sequence before it is admitted."""

    block_ids: list[int]        # full blocks to share, in order
    num_tokens: int             # tokens covered, shared blocks plus copied tail
    copy_from: int | None = None  # cached block whose leading slots seed the tail block
    copy_len: int = 0
    defer: bool = False         # the best tail source is still being written; try next iteration


class BlockManager:
    def __init__(self, num_blocks: int, block_size: int, eviction: EvictionPolicy,
                 prefix_caching: bool = True) -> None:
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.eviction = eviction
        eviction.bind(self)
        self.prefix_caching = prefix_caching
        self.ref = [0] * num_blocks
        self.key_of: list[int | None] = [None] * num_blocks
        self.parent_of: list[int | None] = [None] * num_blocks
        self.tokens_of: list[tuple[int, ...] | None] = [None] * num_blocks
        self.depth_of = [0] * num_blocks                     # index of the block in its chain
        self.released_at = [0.0] * num_blocks                # clock when it became evictable
        self.stale: OrderedDict[int, None] = OrderedDict()   # evictable, idle past T*
        self.clock = 0.0                                     # set by the engine or simulator
        self.by_key: dict[int, int] = {}
        self.children: dict[int, set[int]] = {}
        self.free: deque[int] = deque(range(num_blocks))
        self.in_flight: set[int] = set()
        self.evicted_blocks = 0
        self.used_blocks = 0
        self.peak_blocks = 0

    # ---- capacity -------------------------------------------------------------------------
    @property
    def num_free(self) -> int:
        return len(self.free) + len(self.stale) + len(self.eviction)

    def spare_until(self, arrival: tuple[int, int], limit: int) -> int:
        """Blocks that could be handed out without evicting one that a request up to
        ``arrival`` in the order will read (as far as the eviction policy knows the order),
        counted up to ``limit``."""
        spare = len(self.free) + len(self.stale)
        if spare >= limit:
            return spare
        return spare + self.eviction.spare_until(arrival, limit - spare)

    def blocks_needed(self, seq: Sequence, num_tokens: int) -> int:
        """New blocks ``seq`` needs so that ``num_tokens`` of its tokens fit."""
        return max(0, -(-num_tokens // self.block_size) - len(seq.block_ids))

    # ---- matching -------------------------------------------------------------------------
    def match(self, seq: Sequence) -> PrefixMatch:
        """The longest cached prefix of ``seq``, leaving at least its last token to compute
        (and, for a scoring sequence, every position whose logits it needs)."""
        if not self.prefix_caching:
            return PrefixMatch([], 0)
        bs, tokens = self.block_size, seq.token_ids
        limit = readable_limit(seq)
        keys = sequence_keys(seq, bs, limit // bs)
        matched: list[int] = []
        for i, key in enumerate(keys):
            bid = self.by_key.get(key)
            if bid is None or self.tokens_of[bid] != tuple(tokens[i * bs:(i + 1) * bs]):
                break
            matched.append(bid)
        pos = len(matched) * bs
        parent = keys[len(matched) - 1] if matched else ROOT
        want = tokens[pos:min(pos + bs, limit)]
        best, best_len = None, 0
        for bid in self.children.get(parent, ()):
            n = common_prefix(self.tokens_of[bid], want)
            if n > best_len or (n == best_len and n and best in self.in_flight
                                and bid not in self.in_flight):
                best, best_len = bid, n
        if best is None:
            return PrefixMatch(matched, pos)
        if best in self.in_flight:
            return PrefixMatch(matched, pos, defer=True)
        return PrefixMatch(matched, pos + best_len, best, best_len)

    # ---- allocation -----------------------------------------------------------------------
    def _take(self) -> int:
        if self.free:
            bid = self.free.popleft()
        else:
            bid = self.stale.popitem(last=False)[0] if self.stale else self.eviction.victim()
            self._unregister(bid)
            self.evicted_blocks += 1
        self.ref[bid] = 1
        self._count_used(+1)
        return bid

    def _count_used(self, delta: int) -> None:
        self.used_blocks += delta
        self.peak_blocks = max(self.peak_blocks, self.used_blocks)

    def admit(self, seq: Sequence, m: PrefixMatch) -> int | None:
        """Give ``seq`` the matched blocks (and a fresh tail block if one is copied).

        Returns the block id to copy ``m.copy_len`` slots into, or None. The caller checked
        capacity with ``can_admit``.
        """
        self.eviction.admitted(seq)
        for bid in m.block_ids:
            if self.ref[bid] == 0:
                self._unpark(bid)
                self._count_used(+1)
            self.ref[bid] += 1
        seq.block_ids = list(m.block_ids)
        seq.num_computed = m.num_tokens
        if m.copy_from is None:
            return None
        # Pin the source so allocating the destination cannot evict it.
        src = m.copy_from
        was_free = self.ref[src] == 0
        if was_free:
            self._unpark(src)
        dst = self._take()
        self.in_flight.add(dst)
        if was_free:
            self._park(src)
        seq.block_ids.append(dst)
        return dst

    def restore(self, seq: Sequence, num_computed: int) -> list[int]:
        """After ``admit`` shared what the cache still holds of a swapped-out sequence, give it
        fresh blocks for the rest of its ``num_computed`` tokens (their K/V is copied back from
        host memory before the forward pass) and register the full ones; returns them."""
        fresh = [self._take() for _ in range(self.blocks_needed(seq, num_computed))]
        first = len(seq.block_ids)
        seq.block_ids.extend(fresh)
        seq.num_computed = num_computed
        if self.prefix_caching:
            bs = self.block_size
            keys = sequence_keys(seq, bs, num_computed // bs)
            for i in range(first, num_computed // bs):
                if keys[i] not in self.by_key:
                    self._register(seq.block_ids[i], keys[i], keys[i - 1] if i else ROOT,
                                   tuple(seq.token_ids[i * bs:(i + 1) * bs]), i)
        return fresh

    def expect(self, seq: Sequence) -> None:
        """``seq`` waits for admission: the eviction policy may plan for its prefix."""
        self.eviction.expect(seq)

    def _park(self, bid: int) -> None:
        """``bid`` became evictable."""
        self.released_at[bid] = self.clock
        self.eviction.add(bid)

    def _unpark(self, bid: int) -> None:
        """``bid`` is held again."""
        if bid in self.stale:
            del self.stale[bid]
        else:
            self.eviction.remove(bid)

    def expire(self, t_star: float) -> int:
        """Demote cached blocks idle for more than ``t_star`` seconds (by ``clock``) to be
        handed out first; returns how many were demoted."""
        old = [b for b in range(self.num_blocks) if self.ref[b] == 0 and self.key_of[b] is not None
               and b not in self.stale and self.clock - self.released_at[b] > t_star]
        for bid in sorted(old, key=self.released_at.__getitem__):
            self.eviction.remove(bid)
            self.stale[bid] = None
        return len(old)

    def can_admit(self, m: PrefixMatch, new_blocks: int) -> bool:
        revived = sum(1 for b in m.block_ids if self.ref[b] == 0)
        pinned = 1 if m.copy_from is not None and self.ref[m.copy_from] == 0 else 0
        return self.num_free - revived - pinned >= new_blocks

    def grow(self, seq: Sequence, num_tokens: int) -> None:
        """Give ``seq`` blocks for ``num_tokens`` tokens and register the ones this fills."""
        for _ in range(self.blocks_needed(seq, num_tokens)):
            bid = self._take()
            seq.block_ids.append(bid)
            self.in_flight.add(bid)
        if not self.prefix_caching:
            return
        bs = self.block_size
        keys = sequence_keys(seq, bs, num_tokens // bs)
        for i in range(num_tokens // bs):
            bid = seq.block_ids[i]
            if self.key_of[bid] is None and keys[i] not in self.by_key:
                self._register(bid, keys[i], keys[i - 1] if i else ROOT,
                               tuple(seq.token_ids[i * bs:(i + 1) * bs]), i)
                # Its last slots are written this iteration, even if the block is older.
                self.in_flight.add(bid)

    def _register(self, bid: int, key: int, parent: int, tokens: tuple[int, ...],
                  depth: int) -> None:
        self.key_of[bid], self.parent_of[bid], self.tokens_of[bid] = key, parent, tokens
        self.depth_of[bid] = depth
        self.by_key[key] = bid
        self.children.setdefault(parent, set()).add(bid)

    def _unregister(self, bid: int) -> None:
        key, parent = self.key_of[bid], self.parent_of[bid]
        if key is None:
            return
        del self.by_key[key]
        siblings = self.children.get(parent)
        siblings.discard(bid)
        if not siblings:
            del self.children[parent]
        self.key_of[bid] = self.parent_of[bid] = self.tokens_of[bid] = None

    def release(self, seq: Sequence, keep_tail: bool = True) -> None:
        """Drop ``seq``'s hold on its blocks, tail first so shared prefixes outlive tails.

        With ``keep_tail`` a computed but partly filled last block stays findable (by token-
        level matching), so a finished request's whole prompt can seed the next one.
        """
        if keep_tail:
            self._register_tail(seq)
        for bid in reversed(seq.block_ids):
            self.ref[bid] -= 1
            if self.ref[bid] == 0:
                self._count_used(-1)
                if self.key_of[bid] is not None:
                    self._park(bid)
                else:
                    self.free.append(bid)
        seq.block_ids = []

    def _register_tail(self, seq: Sequence) -> None:
        bs, i = self.block_size, seq.num_computed // self.block_size
        if not self.prefix_caching or seq.num_computed % bs == 0 or i >= len(seq.block_ids):
            return
        bid = seq.block_ids[i]
        if self.key_of[bid] is not None or self.ref[bid] != 1:
            return
        parent = sequence_keys(seq, bs, i)[i - 1] if i else ROOT
        tokens = tuple(seq.token_ids[i * bs:seq.num_computed])
        key = hash((parent, tokens, "tail"))
        if key not in self.by_key:
            self._register(bid, key, parent, tokens, i)

    def abort(self, seqs: list[Sequence]) -> None:
        """Release sequences after a failed iteration: blocks it was writing hold garbage, so
        they are forgotten rather than cached."""
        for bid in self.in_flight:
            self._unregister(bid)
        for seq in seqs:
            self.release(seq, keep_tail=False)
        self.in_flight.clear()
        self.eviction.forget()

    def end_iteration(self) -> None:
        """Everything scheduled this iteration has been written."""
        self.in_flight.clear()
