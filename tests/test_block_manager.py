"""Block manager bookkeeping: hashing, reference counts, LRU eviction, token-level tails."""
from __future__ import annotations

from executor.engine.block_manager import BlockManager
from executor.engine.eviction import LRUEviction
from executor.engine.sequence import SamplingParams, Sequence


def _seq(i: int, tokens: list[int]) -> Sequence:
    return Sequence(i, i, (0, i), list(tokens), len(tokens), SamplingParams(1))


def _run(bm: BlockManager, seq: Sequence) -> None:
    """Admit ``seq`` with whatever the cache gives and 'compute' the rest of its tokens."""
    m = bm.match(seq)
    bm.admit(seq, m)
    bm.grow(seq, seq.num_tokens)
    seq.num_computed = seq.num_tokens
    bm.end_iteration()


def test_equal_prefixes_share_blocks_and_refcount():
    bm = BlockManager(16, 4, LRUEviction())
    a, b = _seq(0, list(range(10))), _seq(1, list(range(8)) + [50, 51, 52])
    _run(bm, a)
    m = bm.match(b)
    assert m.block_ids == a.block_ids[:2] and m.num_tokens == 8
    _run(bm, b)
    assert [bm.ref[x] for x in a.block_ids[:2]] == [2, 2]
    bm.release(a)
    assert [bm.ref[x] for x in b.block_ids[:2]] == [1, 1]
    assert bm.used_blocks == len(b.block_ids)


def test_lru_evicts_least_recently_released_tail_first():
    bm = BlockManager(4, 2, LRUEviction())
    a, b = _seq(0, [1, 2, 3, 4]), _seq(1, [5, 6, 7, 8])
    _run(bm, a)
    bm.release(a)
    _run(bm, b)
    bm.release(b)
    order = list(bm.eviction._order)
    # a released first, its tail block before its head; then b likewise.
    assert order == [1, 0, 3, 2]
    _run(bm, _seq(2, [9]))              # needs one block: a's tail goes
    assert bm.evicted_blocks == 1
    assert bm.match(_seq(3, [1, 2, 3, 4, 0])).num_tokens == 2   # a's head survived its tail
    assert bm.match(_seq(4, [5, 6, 7, 8, 0])).num_tokens == 4


def test_partial_block_is_copied_not_recomputed():
    bm = BlockManager(16, 4, LRUEviction())
    a = _seq(0, list(range(12)))
    _run(bm, a)
    b = _seq(1, list(range(6)) + [99, 98])
    m = bm.match(b)
    assert m.block_ids == a.block_ids[:1]
    assert (m.copy_from, m.copy_len, m.num_tokens) == (a.block_ids[1], 2, 6)


def test_in_flight_tail_source_defers_admission():
    bm = BlockManager(16, 4, LRUEviction())
    a = _seq(0, list(range(12)))
    bm.admit(a, bm.match(a))
    bm.grow(a, 12)                      # scheduled, not yet computed
    b = _seq(1, list(range(6)) + [99])
    assert bm.match(b).defer
    bm.end_iteration()
    assert not bm.match(b).defer


def test_abort_forgets_blocks_that_were_being_written():
    bm = BlockManager(16, 4, LRUEviction())
    a = _seq(0, list(range(12)))
    bm.admit(a, bm.match(a))
    bm.grow(a, 12)
    bm.abort([a])
    assert bm.match(_seq(1, list(range(12)) + [5])).num_tokens == 0
    assert bm.num_free == 16


def test_a_written_tail_source_wins_a_tie_with_one_in_flight():
    """Two cached blocks share a prefix's last slots: the one written last iteration serves
    now, and the request need not wait for the one still being written."""
    bm = BlockManager(16, 4, LRUEviction())
    bm.free.rotate(-14)                 # the written blocks get the last ids, 14 and 15
    written = _seq(0, [1, 2, 3, 4, 5, 6, 7, 8])
    _run(bm, written)
    writing = _seq(1, [1, 2, 3, 4, 5, 6, 9, 9])
    bm.admit(writing, bm.match(writing))
    bm.grow(writing, 8)                 # its second block is registered, not yet computed
    m = bm.match(_seq(2, [1, 2, 3, 4, 5, 6, 0]))
    assert not m.defer
    assert (m.copy_from, m.copy_len, m.num_tokens) == (written.block_ids[1], 2, 6)
