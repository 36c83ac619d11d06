"""Every eviction x preemption pair, under KV budgets from the smallest that holds one request
up, gives exactly transformers' greedy output; the policies do what they claim."""
from __future__ import annotations

import functools
import random

import pytest

from executor.engine import Engine, EngineConfig, Request
from executor.engine.block_manager import BlockManager
from executor.engine.eviction import (EVICTION_POLICIES, BeladyEviction, LFUEviction,
                                      LRUEviction, make_eviction_policy)
from executor.engine.eviction.lazy_heap import LazyHeap
from executor.engine.errors import InvalidRequestError
from executor.engine.sequence import SamplingParams, Sequence
from tests import hf_oracle
from tests.prompt_groups import grouped_prompts

EVICTIONS = ["lru", "lfu", "belady"]
PREEMPTIONS = ["newest", "srf", "cost"]


@functools.lru_cache(maxsize=None)
def _greedy(path: str, prompt: tuple[int, ...], max_tokens: int) -> list[int]:
    return hf_oracle.greedy(path, list(prompt), max_tokens)


def _run(path, blocks, block_bytes, prompts, max_tokens, **cfg):
    engine = Engine(EngineConfig(model=path, kv_cache_bytes=blocks * block_bytes, block_size=4,
                                 max_batch_tokens=48, **cfg))
    outs = engine.generate([Request(prompt_ids=p, max_tokens=max_tokens) for p in prompts])
    for p, out in zip(prompts, outs):
        assert out.token_ids == _greedy(path, tuple(p), max_tokens), (cfg, p)
    return engine


@pytest.mark.parametrize("eviction", EVICTIONS)
@pytest.mark.parametrize("preemption", PREEMPTIONS)
def test_every_policy_pair_matches_hf_under_pressure(tiny_model, block_bytes, eviction, preemption):
    prompts = grouped_prompts(1, 8, 6, 20)
    engine = _run(tiny_model, 14, block_bytes, prompts, 10, eviction=eviction,
                  preemption=preemption)
    assert engine.stats.preemptions > 0 and engine.stats.evicted_blocks > 0
    if preemption == "cost":
        assert engine.stats.swaps > 0       # host copies are far cheaper than recomputing here
    else:
        assert engine.stats.swaps == 0 and engine.stats.recomputed_tokens > 0


@pytest.mark.parametrize("eviction", EVICTIONS)
def test_budgets_down_to_one_request_match_hf(tiny_model, block_bytes, eviction):
    prompts = grouped_prompts(2, 6, 4, 14)
    need = max(-(-(len(p) + 8) // 4) for p in prompts)     # the largest single request
    for blocks in (need, need + 3, 3 * need):
        _run(tiny_model, blocks, block_bytes, prompts, 8, eviction=eviction, preemption="cost")


def test_swap_disabled_falls_back_to_recompute(tiny_model, block_bytes):
    engine = _run(tiny_model, 14, block_bytes, grouped_prompts(1, 8, 6, 20), 10, preemption="cost",
                  swap_bytes=0)
    assert engine.stats.swaps == 0 and engine.stats.recomputed_tokens > 0


def test_the_registry_names_each_eviction_policy_once():
    assert sorted(EVICTION_POLICIES) == ["belady", "lfu", "lru"]
    assert [n for n, cls in EVICTION_POLICIES.items() if cls.uses_future] == ["belady"]


def test_plan_is_the_old_name_of_belady():
    config = EngineConfig(model="no-model-is-loaded", eviction="plan")
    assert config.eviction == "belady"
    assert type(make_eviction_policy("plan")) is BeladyEviction


def test_belady_is_the_default_eviction():
    assert EngineConfig(model="no-model-is-loaded").eviction == "belady"


@pytest.mark.parametrize("field, message", [
    ("eviction", "unknown eviction policy 'nope'; choose one of ['belady', 'lfu', 'lru']"),
    ("preemption", "unknown preemption policy 'nope'; choose one of ['cost', 'newest', 'srf']")])
def test_an_unknown_policy_name_fails_when_the_config_is_built(field, message):
    with pytest.raises(InvalidRequestError) as caught:
        EngineConfig(model="no-model-is-loaded", **{field: "nope"})
    assert str(caught.value) == message


def _seq(i: int, tokens: list[int]) -> Sequence:
    return Sequence(i, i, (0, i), list(tokens), len(tokens), SamplingParams(1))


def _compute(bm: BlockManager, seq: Sequence) -> None:
    bm.admit(seq, bm.match(seq))
    bm.grow(seq, seq.num_tokens)
    seq.num_computed = seq.num_tokens
    bm.end_iteration()


def test_belady_evicts_the_block_used_furthest_in_the_future():
    bm = BlockManager(9, 2, BeladyEviction())
    a, b, c = [1, 2, 3, 4, 9], [5, 6, 7, 8, 9], [11, 12, 13, 14, 9]
    for i, p in enumerate((a, b, c)):
        s = _seq(i, p)
        _compute(bm, s)
        bm.release(s, keep_tail=False)
    # Future order: c, then a; b never again. LRU would evict a's blocks first.
    bm.eviction.set_future([c, a])
    kinds = {}
    for name, p in (("a", a), ("b", b), ("c", c)):
        kinds.update({bid: name for bid in bm.match(_seq(9, p)).block_ids})
    while bm.free:
        bm._take()
    victims = [kinds[bm._take()] for _ in range(4)]
    assert victims == ["b", "b", "a", "a"]
    assert bm.match(_seq(9, c)).num_tokens == 4


def test_belady_cuts_a_shared_chain_from_its_end():
    bm = BlockManager(4, 2, BeladyEviction())
    s = _seq(0, [1, 2, 3, 4, 5, 6, 7])
    _compute(bm, s)
    bm.release(s, keep_tail=False)
    bm.eviction.set_future([[1, 2, 3, 4, 5, 6, 7]])
    bm._take()                         # the one free block
    bm._take()                         # evicts the deepest block of the chain
    assert bm.match(_seq(1, [1, 2, 3, 4, 5, 6, 7])).num_tokens == 4


def test_belady_keeps_the_partial_block_a_waiting_request_reads():
    """A prompt that shares a prefix ending mid-block is served by token-level tails: the
    cached block's full key is on no reader's chain, but its stem (parent, first token) is.
    Belady keeps one block per stem, the newest: its older sibling goes with the junk."""
    bm = BlockManager(8, 4, BeladyEviction())
    first = _seq(0, [1, 2, 3, 4, 5, 6, 10, 11, 12])
    sibling = _seq(1, [1, 2, 3, 4, 5, 6, 20])          # its second block copies 2 of first's
    junk = _seq(2, [40, 41, 42, 43, 44])
    second_blocks = []
    for s in (first, sibling, junk):
        _compute(bm, s)
        second_blocks.append(s.block_ids[1])
        bm.release(s)
    older, newer = second_blocks[:2]
    reader = _seq(3, [1, 2, 3, 4, 5, 6, 30, 31])
    bm.expect(reader)
    while bm.free:
        bm._take()
    for _ in range(3):                 # first's tail, then the older sibling, then junk's tail
        bm._take()
    assert bm.key_of[newer] is not None and bm.key_of[older] is None
    assert bm.match(reader).num_tokens == 6


def test_lazy_heap_counts_the_entries_below_a_bound_without_walking_the_heap():
    rng = random.Random(0)
    heap = LazyHeap()
    for key in range(500):
        heap.push((rng.randrange(100), key))
    for key in range(0, 500, 3):
        heap.discard(key)
    for key in range(0, 500, 7):
        heap.push((rng.randrange(100), key))          # re-ranked: the old entry is dead
    live = [e for e in heap._live.values()]
    for bound in (0, 10, 50, 99, 100):
        below = sum(1 for e in live if e < (bound,))
        assert heap.count_below((bound,), 10**6) == below
        assert heap.count_below((bound,), 5) == min(below, 5)


def test_lfu_keeps_the_most_reused_block():
    bm = BlockManager(3, 2, LFUEviction())
    hot, cold = _seq(0, [1, 2, 0]), _seq(1, [3, 4, 0])
    _compute(bm, hot)
    bm.release(hot, keep_tail=False)
    _compute(bm, cold)
    bm.release(cold, keep_tail=False)
    again = _seq(2, [1, 2, 5])
    _compute(bm, again)                # reuses hot's block: one hit
    bm.release(again, keep_tail=False)
    while bm.free:
        bm._take()
    bm._take()
    assert bm.match(_seq(3, [1, 2, 0])).num_tokens == 2
    assert bm.match(_seq(4, [3, 4, 0])).num_tokens == 0


def test_expired_blocks_go_before_the_policy_ranks():
    bm = BlockManager(4, 2, LRUEviction())
    old, new = _seq(0, [1, 2, 0]), _seq(1, [3, 4, 0])
    _compute(bm, old)
    bm.release(old, keep_tail=False)        # released at clock 0
    bm.clock = 10.0
    _compute(bm, new)
    bm.release(new, keep_tail=False)        # released at clock 10
    bm.clock = 12.0
    assert bm.expire(t_star=5.0) == 1       # only old has been idle longer than T*
    assert bm.match(_seq(2, [1, 2, 0])).num_tokens == 2   # still findable until needed
    while bm.free:
        bm._take()
    bm._take()
    assert bm.match(_seq(3, [1, 2, 0])).num_tokens == 0
    assert bm.match(_seq(4, [3, 4, 0])).num_tokens == 2


def test_future_requests_keep_their_prefix_cached(tiny_model, block_bytes):
    rng = random.Random(5)
    keep = [rng.randrange(1, 500) for _ in range(24)]
    later = [Request(prompt_ids=keep + [7, 8], max_tokens=2)]
    filler = [Request(prompt_ids=[rng.randrange(1, 500) for _ in range(24)], max_tokens=2)
              for _ in range(6)]
    cached = {}
    for future in (None, later):
        engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=16 * block_bytes,
                                     block_size=4, eviction="belady", max_num_seqs=1))
        engine.generate([Request(prompt_ids=keep + [1], max_tokens=2)])
        engine.generate(filler, future=later if future else None)
        engine.reset_stats()
        engine.generate(later)
        cached[future is not None] = engine.stats.cached_tokens
    assert cached[True] == 24 and cached[False] < 24


def test_decode_batch_cap_finishes_rows_steadily(tiny_model):
    prompts = grouped_prompts(3, 12, 2, 6)
    done_at = []
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20, decode_batch=4))
    outs = engine.generate([Request(prompt_ids=p, max_tokens=6) for p in prompts],
                           on_result=lambda i, o: done_at.append(engine.stats.iterations))
    assert [o.token_ids for o in outs] == [_greedy(tiny_model, tuple(p), 6) for p in prompts]
    assert done_at[3] < done_at[-1] // 2       # a third of the rows done before half the work
    assert engine.scheduler.max_num_seqs == 4


def test_auto_decode_batch_comes_from_the_cost_model(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20))
    target = engine.cost_model.decode_batch_target(engine.config.max_batch_tokens)
    assert engine.scheduler.max_num_seqs == min(engine.config.max_num_seqs, target)
