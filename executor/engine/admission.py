"""Cache-aware admission: a waiting sequence starts only when that costs no prefix needed soon.

Why: the scheduler admits in submitted order, and in a planned query that order is depth-first
over the prompts' prefix trie, so the prefix the next requests need is the one just computed.
Two things used to break that at a small cache (a few thousand tokens, about a batch):

* *Running ahead.* A sequence whose cache source is still being written waits one iteration
  (deferral) without holding back the queue. So each iteration reached past the rest of a
  prefix group to the first request of the next group, and the next, and computed the first
  prefix of every group in the queue; they were evicted before the rest of their groups came.
* *A full pool.* Once the running sequences pin nearly every block, each admission evicts
  what is left, which is the prefix the next requests (or a finished choice lead's label
  children, which re-read its prompt) are about to read.

The rule: once the iteration already has work, a sequence is admitted only if its new blocks
can come from free blocks or from cached blocks that no request up to the *horizon* will read.
The horizon is the next request after it in the order, or further if sequences beyond that
were admitted already (they ran ahead of ones still waiting, whose prefixes must stay). If it
runs ahead of deferred sequences, room for their new blocks (at most a batch's worth) must
stay spare as well. Otherwise it waits: the running sequences release blocks soon, and the
batch is not idle. "Will read" comes from the eviction policy: ``belady`` knows the order;
others know only what is evictable, so for them the rule only keeps room for deferred ones.
"""
from __future__ import annotations

from itertools import islice

from .block_manager import BlockManager, PrefixMatch
from .sequence import Sequence


class AdmissionGate:
    """Asked once per candidate by ``Scheduler._admit``; ``begin`` starts each iteration's
    admissions, ``defer`` and ``admitted`` report what happened to a candidate."""

    def __init__(self, blocks: BlockManager, max_batch_tokens: int) -> None:
        self.blocks = blocks
        self.batch_blocks = max_batch_tokens // blocks.block_size
        self.frontier: tuple[int, int] | None = None   # furthest place in the order admitted
        self.owed = 0          # new blocks the sequences deferred this iteration will need

    def begin(self) -> None:
        self.owed = 0

    def defer(self, seq: Sequence, match: PrefixMatch) -> None:
        """``seq`` waits for its cache source; it will need the blocks its match lacks."""
        self.owed += -(-seq.num_tokens // self.blocks.block_size) - len(match.block_ids)

    def admitted(self, seq: Sequence) -> None:
        if self.frontier is None or seq.arrival > self.frontier:
            self.frontier = seq.arrival

    def reset(self) -> None:
        """Every sequence was dropped."""
        self.frontier, self.owed = None, 0

    def allows(self, waiting: list[Sequence], i: int, new_blocks: int) -> bool:
        """May ``waiting[i]`` take ``new_blocks`` new blocks while the batch has work?"""
        want = new_blocks + min(self.owed, self.batch_blocks)
        return self.blocks.spare_until(self._horizon(waiting, i), want) >= want

    def _horizon(self, waiting: list[Sequence], i: int) -> tuple[int, int]:
        """The place in the order up to which cached prefixes are kept for ``waiting[i]``'s
        admission: the next request's (a choice's children share their request's place),
        or the frontier if that lies further."""
        here = waiting[i].arrival
        later = islice(waiting, i + 1, None)
        horizon = next((s.arrival for s in later if s.arrival != here), here)
        return max(horizon, self.frontier or horizon)

