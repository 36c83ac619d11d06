"""Continuous batching: which sequences compute how many tokens in the next iteration.

Each iteration has a token budget (``max_batch_tokens``). Running sequences go first, in
admission order: a decoding one takes one token, one still in prefill takes a chunk of what is
left of the budget (chunked prefill). Then waiting sequences are admitted in submitted order,
each starting after the longest prefix the cache already holds (one whose prefix is being
written this iteration waits one iteration without blocking the queue). Once the iteration has
work, an admission must leave cached what the next requests read (``admission.py``). When the
pool has no block for a running sequence, the preemption policy picks a victim among those not
yet scheduled this iteration, and the way out: the victim releases its blocks and waits to be
recomputed, or (``cost`` policy) its blocks are swapped to host memory and back.

The number of running sequences is capped by ``running_limit``: a decode batch larger than
the cost model's throughput knee gains almost nothing, and a smaller running set lets rows
finish steadily instead of all at the end (a cancelled query then keeps more of them).

The scheduler touches no tensors: the engine executes a ``Step`` on the model, the simulator
prices it with the cost model.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .admission import AdmissionGate
from .block_manager import BlockManager, PrefixMatch
from .eviction import make_eviction_policy
from .preemption import PreemptionPolicy, make_preemption_policy
from .sequence import Chunk, Sequence, Status


@dataclass
class Step:
    chunks: list[Chunk] = field(default_factory=list)
    copies: list[tuple[int, int, int]] = field(default_factory=list)   # (src, dst, slots)
    preempted: list[Sequence] = field(default_factory=list)
    admitted: list[tuple[Sequence, int]] = field(default_factory=list)  # (seq, cached tokens)
    swap_out: list[tuple[Sequence, list[int]]] = field(default_factory=list)   # (seq, blocks)
    swap_in: list[tuple[Sequence, list[int], int]] = field(default_factory=list)  # (seq, blocks, first)

    @property
    def swap_blocks(self) -> int:
        return sum(len(b) for _, b in self.swap_out) + sum(len(b) for _, b, _ in self.swap_in)


def running_limit(max_num_seqs: int, decode_batch: int | str, max_batch_tokens: int,
                  cost_model) -> int:
    """How many sequences may run at once: ``max_num_seqs``, capped by ``decode_batch``
    (``"auto"``: the cost model's throughput knee, within 5% of a budget-sized batch;
    ``"max"``: no cap; an int: that)."""
    if decode_batch == "max":
        return max_num_seqs
    if decode_batch == "auto":
        decode_batch = cost_model.decode_batch_target(max_batch_tokens)
    return max(1, min(max_num_seqs, int(decode_batch)))


def make_scheduler(config, num_blocks: int, block_bytes: int, cost_model) -> "Scheduler":
    """The block manager and scheduler an ``EngineConfig`` describes, for a pool of
    ``num_blocks`` blocks of ``block_bytes``: the engine and the simulator both build theirs
    here, so they run the same policies under the same limits."""
    blocks = BlockManager(num_blocks, config.block_size, make_eviction_policy(config.eviction),
                          config.prefix_caching)
    swap_bytes = config.kv_cache_bytes if config.swap_bytes is None else config.swap_bytes
    limit = running_limit(config.max_num_seqs, config.decode_batch, config.max_batch_tokens,
                          cost_model)
    return Scheduler(blocks, make_preemption_policy(config.preemption), config.max_batch_tokens,
                     limit, swap_bytes // block_bytes, cost_model)


class Scheduler:
    def __init__(self, blocks: BlockManager, preemption: PreemptionPolicy,
                 max_batch_tokens: int, max_num_seqs: int, swap_capacity: int = 0,
                 cost_model=None) -> None:
        self.blocks = blocks
        self.preemption = preemption
        preemption.bind(blocks, cost_model)
        self.max_batch_tokens = max_batch_tokens
        self.max_num_seqs = max_num_seqs
        self.swap_capacity = swap_capacity    # blocks of host memory for swapped sequences
        self.swap_used = 0
        self.waiting: list[Sequence] = []     # sorted by (arrival, seq_id)
        self.running: list[Sequence] = []     # in admission order
        self.gate = AdmissionGate(blocks, max_batch_tokens)

    def add(self, seq: Sequence) -> None:
        seq.status = Status.WAITING
        bisect.insort(self.waiting, seq, key=lambda s: (s.arrival, s.seq_id))
        self.blocks.expect(seq)

    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def finish(self, seq: Sequence) -> None:
        seq.status = Status.FINISHED
        self.running.remove(seq)
        self.blocks.release(seq)

    def abort_all(self) -> None:
        """Drop every sequence (after an error or Ctrl-C) so the engine stays usable."""
        self.blocks.abort(self.running)
        self.running.clear()
        self.waiting.clear()
        self.swap_used = 0
        self.gate.reset()

    def _preempt(self, victim: Sequence, step: Step, swap: bool) -> None:
        self.running.remove(victim)
        if swap:
            step.swap_out.append((victim, list(victim.block_ids)))
            victim.swapped_blocks = len(victim.block_ids)
            self.swap_used += victim.swapped_blocks
        self.blocks.release(victim)
        if not swap:
            victim.num_computed = 0
        step.preempted.append(victim)
        self.add(victim)

    def schedule(self) -> Step:
        """The next iteration's chunks; call it while ``has_work()``."""
        step = Step()
        budget = self.max_batch_tokens
        scheduled: set[int] = set()
        for seq in list(self.running):
            if budget == 0:
                break
            if seq.status is not Status.RUNNING:
                continue
            n = min(seq.num_to_compute, budget)
            while self.blocks.blocks_needed(seq, seq.num_computed + n) > self.blocks.num_free:
                candidates = [s for s in self.running if s.seq_id not in scheduled]
                victim, swap = self.preemption.choose(candidates,
                                                      self.swap_capacity - self.swap_used)
                self._preempt(victim, step, swap)
                if victim is seq:
                    break
            if seq.status is not Status.RUNNING:
                continue
            self.blocks.grow(seq, seq.num_computed + n)
            step.chunks.append(Chunk(seq, seq.num_computed, seq.num_computed + n))
            scheduled.add(seq.seq_id)
            budget -= n
        if not step.preempted:
            self._admit(step, budget)
        if not step.chunks:
            raise RuntimeError("scheduler made no progress; this is an engine bug")
        return step

    def _admit(self, step: Step, budget: int) -> None:
        """Admit waiting sequences in submitted order. The one exception: a sequence whose
        best cache source is being written this very iteration waits for the next one, and
        does not hold back those behind it (it keeps its place at the head of the queue).
        Once the iteration has work, the admission gate keeps the prefixes that the next
        requests will read (``admission.py``)."""
        i = 0
        self.gate.begin()
        while i < len(self.waiting) and budget > 0 and len(self.running) < self.max_num_seqs:
            seq = self.waiting[i]
            if seq.swapped_blocks:
                if not self._swap_in(i, step, budget):
                    break
                budget -= step.chunks[-1].end - step.chunks[-1].start
                continue
            match = self.blocks.match(seq)
            if match.defer:
                self.gate.defer(seq, match)
                i += 1
                continue
            n = min(seq.num_tokens - match.num_tokens, budget)
            shared = len(match.block_ids)
            new_blocks = -(-(match.num_tokens + n) // self.blocks.block_size) - shared
            if not self.blocks.can_admit(match, new_blocks):
                break
            if step.chunks and not self.gate.allows(self.waiting, i, new_blocks):
                break
            self.waiting.pop(i)
            dst = self.blocks.admit(seq, match)
            if dst is not None:
                step.copies.append((match.copy_from, dst, match.copy_len))
            self.blocks.grow(seq, match.num_tokens + n)
            seq.status = Status.RUNNING
            self.running.append(seq)
            self.gate.admitted(seq)
            step.admitted.append((seq, match.num_tokens))
            step.chunks.append(Chunk(seq, match.num_tokens, match.num_tokens + n))
            budget -= n

    def _swap_in(self, i: int, step: Step, budget: int) -> bool:
        """Readmit a swapped-out sequence at its own position in the queue: share what the
        cache still holds of its blocks, copy the rest back from host memory, and go on
        computing where it stopped. False if the pool has no room for it yet."""
        seq = self.waiting[i]
        bs, done = self.blocks.block_size, seq.num_computed
        cached = self.blocks.match(seq).block_ids[:done // bs]
        match = PrefixMatch(cached, len(cached) * bs)
        n = min(seq.num_tokens - done, budget)
        if not self.blocks.can_admit(match, -(-(done + n) // bs) - len(cached)):
            return False
        self.waiting.pop(i)
        self.blocks.admit(seq, match)
        fresh = self.blocks.restore(seq, done)
        step.swap_in.append((seq, fresh, len(cached)))
        self.swap_used -= seq.swapped_blocks
        seq.swapped_blocks = 0
        self.blocks.grow(seq, done + n)
        seq.status = Status.RUNNING
        self.running.append(seq)
        step.chunks.append(Chunk(seq, done, done + n))
        return True
