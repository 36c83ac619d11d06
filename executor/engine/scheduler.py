"""Continuous batching: which sequences compute how many tokens in the next iteration.

Each iteration has a token budget (``max_batch_tokens``). Running sequences go first, in
admission order: a decoding one takes one token, one still in prefill takes a chunk of what is
left of the budget (chunked prefill). Then waiting sequences are admitted in submitted order,
each starting after the longest prefix the cache already holds (one whose prefix is being
written this iteration waits one iteration without blocking the queue). When the pool has no
block for a running sequence, the preemption policy picks a victim among those not yet
scheduled this iteration; the victim releases its blocks and waits to be recomputed.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .block_manager import BlockManager
from .model_runner import Chunk
from .preemption import PreemptionPolicy
from .sequence import Sequence, Status


@dataclass
class Step:
    chunks: list[Chunk] = field(default_factory=list)
    copies: list[tuple[int, int, int]] = field(default_factory=list)   # (src, dst, slots)
    preempted: list[Sequence] = field(default_factory=list)
    admitted: list[tuple[Sequence, int]] = field(default_factory=list)  # (seq, cached tokens)


class Scheduler:
    def __init__(self, blocks: BlockManager, preemption: PreemptionPolicy,
                 max_batch_tokens: int, max_num_seqs: int) -> None:
        self.blocks = blocks
        self.preemption = preemption
        self.max_batch_tokens = max_batch_tokens
        self.max_num_seqs = max_num_seqs
        self.waiting: list[Sequence] = []     # sorted by (arrival, seq_id)
        self.running: list[Sequence] = []     # in admission order

    def add(self, seq: Sequence) -> None:
        seq.status = Status.WAITING
        bisect.insort(self.waiting, seq, key=lambda s: (s.arrival, s.seq_id))

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

    def _preempt(self, victim: Sequence, step: Step) -> None:
        self.running.remove(victim)
        self.blocks.release(victim)
        victim.recompute_until = max(victim.recompute_until, victim.num_computed)
        victim.num_computed = 0
        step.preempted.append(victim)
        self.add(victim)

    def schedule(self) -> Step:
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
                victim = self.preemption.victim(candidates)
                self._preempt(victim, step)
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
        return step

    def _admit(self, step: Step, budget: int) -> None:
        """Admit waiting sequences in submitted order. The one exception: a sequence whose
        best cache source is being written this very iteration waits for the next one, and
        does not hold back those behind it (it keeps its place at the head of the queue)."""
        i = 0
        while i < len(self.waiting) and budget > 0 and len(self.running) < self.max_num_seqs:
            seq = self.waiting[i]
            match = self.blocks.match(seq)
            if match.defer:
                i += 1
                continue
            n = min(seq.num_tokens - match.num_tokens, budget)
            shared = len(match.block_ids)
            new_blocks = -(-(match.num_tokens + n) // self.blocks.block_size) - shared
            if not self.blocks.can_admit(match, new_blocks):
                break
            self.waiting.pop(i)
            dst = self.blocks.admit(seq, match)
            if dst is not None:
                step.copies.append((match.copy_from, dst, match.copy_len))
            self.blocks.grow(seq, match.num_tokens + n)
            seq.status = Status.RUNNING
            self.running.append(seq)
            step.admitted.append((seq, match.num_tokens))
            step.chunks.append(Chunk(seq, match.num_tokens, match.num_tokens + n))
            budget -= n
