"""Cache-aware admission: once an iteration has work, a sequence starts only with blocks that
no request up to the next one reads, and with room left for the deferred ones it runs ahead of."""
from __future__ import annotations

import pytest

from executor.engine.block_manager import BlockManager
from executor.engine.eviction import BeladyEviction
from executor.engine.preemption import make_preemption_policy
from executor.engine.scheduler import Scheduler
from executor.engine.sequence import SamplingParams, Sequence


def _scheduler(num_blocks: int) -> Scheduler:
    blocks = BlockManager(num_blocks, 4, BeladyEviction())
    return Scheduler(blocks, make_preemption_policy("newest"), max_batch_tokens=64,
                     max_num_seqs=8)


def _add(sched: Scheduler, i: int, tokens: list[int]) -> Sequence:
    seq = Sequence(i, i, (0, i), tokens, len(tokens), SamplingParams(1))
    sched.add(seq)
    return seq


@pytest.mark.parametrize("num_blocks,runs_ahead", [(4, False), (16, True)])
def test_a_request_runs_ahead_of_a_deferred_one_only_with_room_to_spare(num_blocks, runs_ahead):
    """a2 waits for a1's second block to be written; b1 may start before it only if a2's new
    block stays spare. With 4 blocks b1's two would fit (a1 holds 2), leaving none for a2."""
    sched = _scheduler(num_blocks)
    a1 = _add(sched, 0, [1, 2, 3, 4, 5, 6, 10, 11])
    _add(sched, 1, [1, 2, 3, 4, 5, 6, 20, 21])
    b1 = _add(sched, 2, [50, 51, 52, 53, 54, 55, 56, 57])
    _add(sched, 3, [50, 51, 52, 53, 54, 55, 60, 61])
    step = sched.schedule()
    started = [c.seq for c in step.chunks]
    assert started == ([a1, b1] if runs_ahead else [a1])


def test_an_admission_does_not_evict_the_prefix_the_next_request_reads():
    """A full pool: the only evictable blocks are the prefix that the request after the
    candidate reads. The candidate waits for the running sequence instead of evicting it."""
    sched = _scheduler(5)
    blocks = sched.blocks
    done = Sequence(9, 9, (0, 0), [30, 31, 32, 33, 34, 35, 36, 37, 38], 9, SamplingParams(1))
    blocks.admit(done, blocks.match(done))
    blocks.grow(done, 9)
    done.num_computed = 9
    blocks.end_iteration()
    blocks.release(done)                           # 3 cached blocks: 2 full, 1 tail
    running = _add(sched, 1, [70, 71, 72, 73, 74, 75])
    sched.schedule()                               # admitted alone; holds 2 blocks
    blocks.end_iteration()
    running.num_computed = 6
    candidate = _add(sched, 2, [80, 81, 82, 83, 84])
    reader = _add(sched, 3, [30, 31, 32, 33, 34, 35, 36, 37, 38, 39])
    running.token_ids.append(76)                   # it decodes on, so the batch has work
    step = sched.schedule()
    assert [c.seq for c in step.chunks] == [running]
    assert candidate in sched.waiting and blocks.match(reader).num_tokens == 9
