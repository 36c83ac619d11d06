"""The token counters add up: every prompt token is counted once, as served from the cache or
as prefilled, and anything computed again is prefilled *and* counted as recomputed, so
``cached + prefilled == prompt + recomputed`` exactly, in the engine and in the simulator, under
preemption (recompute and swap), eviction, deferral, chunked prefill and choice children."""
from __future__ import annotations

import random

import pytest

from executor.engine import Engine, EngineConfig, Request
from executor.engine.sequence import SamplingParams, Sequence
from executor.engine.simulator import simulate
from executor.engine.stats import EngineStats
from tests.prompt_groups import grouped_prompts

LABELS = ["positive", "negative", "neutral"]     # several tokens each with the tiny tokenizer


def assert_counts_add_up(stats) -> None:
    assert stats.cached_tokens + stats.prefilled_tokens == \
        stats.prompt_tokens + stats.recomputed_tokens, stats


def _config(path, blocks, block_bytes, **kw):
    kw.setdefault("max_batch_tokens", 48)
    return EngineConfig(model=path, kv_cache_bytes=blocks * block_bytes, block_size=4, **kw)


def _generate(config, prompts, max_tokens=10, choices=None):
    engine = Engine(config)
    outs = engine.generate([Request(prompt_ids=p, max_tokens=max_tokens, ignore_eos=True,
                                    choices=choices) for p in prompts])
    return engine.stats, outs


@pytest.mark.parametrize("eviction", ["lru", "belady"])
def test_recompute_after_preemption_and_eviction(tiny_model, block_bytes, eviction):
    stats, _ = _generate(_config(tiny_model, 14, block_bytes, eviction=eviction),
                         grouped_prompts(1, 10, 6, 20))
    assert stats.preemptions > 0 and stats.evicted_blocks > 0 and stats.recomputed_tokens > 0
    assert_counts_add_up(stats)


def test_swapped_sequences_are_not_counted_again(tiny_model, block_bytes):
    stats, _ = _generate(_config(tiny_model, 14, block_bytes, preemption="cost"),
                         grouped_prompts(1, 10, 6, 20))
    assert stats.swaps > 0
    assert_counts_add_up(stats)


def test_chunked_prefill_counts_each_prompt_token_once(tiny_model, block_bytes):
    prompts = grouped_prompts(2, 6, 40, 90, groups=2, shared=30)
    stats, _ = _generate(_config(tiny_model, 400, block_bytes, max_batch_tokens=16), prompts, 3)
    assert min(map(len, prompts)) > 16      # every prompt is computed in several chunks
    assert stats.cached_tokens > 0 and stats.recomputed_tokens == 0
    assert_counts_add_up(stats)


def test_a_deferred_request_counts_its_copied_tail_as_cached(tiny_model, block_bytes):
    a = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    b = a[:6] + [99, 98, 97]            # shares 6 tokens: one block and two slots of a's second
    stats, (out_a, out_b) = _generate(_config(tiny_model, 400, block_bytes), [a, b], 1)
    assert stats.iterations == 2        # b waited one iteration for a's second block
    assert out_b.cached_tokens == 6 and stats.cached_tokens == 6
    assert stats.prefilled_tokens == len(a) + len(b) - 6
    assert_counts_add_up(stats)


@pytest.mark.parametrize("blocks", [20, 400])
def test_choice_children_reread_their_prompt_without_counting_it_again(tiny_model, block_bytes,
                                                                        blocks):
    prompts = grouped_prompts(3, 12, 6, 20)
    stats, outs = _generate(_config(tiny_model, blocks, block_bytes), prompts, choices=LABELS)
    assert {o.text for o in outs} <= set(LABELS)
    assert stats.decoded_tokens > 0     # the labels' tokens after the first
    assert_counts_add_up(stats)


def test_a_readmitted_sequence_counts_only_the_cache_it_never_had():
    """Preempted after computing 4 of its tokens, a sequence comes back to find 12 cached (a
    neighbour computed them meanwhile): the 8 it never had are cached, none recomputed."""
    stats = EngineStats(prompt_tokens=20)
    seq = Sequence(0, 0, (0, 0), list(range(20)), 20, SamplingParams(1))
    stats.count_admission(seq, 0)
    stats.count_chunk(seq, 0, 4)
    stats.count_admission(seq, 12)
    stats.count_chunk(seq, 12, 20)
    assert (stats.cached_tokens, stats.prefilled_tokens, stats.recomputed_tokens) == (8, 12, 0)
    assert seq.cached_tokens == 8
    stats.count_admission(seq, 2)       # preempted again, and the cache lost all but 2
    stats.count_chunk(seq, 2, 20)
    assert (stats.cached_tokens, stats.prefilled_tokens, stats.recomputed_tokens) == (8, 30, 18)
    assert_counts_add_up(stats)


@pytest.mark.parametrize("eviction", ["lru", "lfu", "belady"])
@pytest.mark.parametrize("preemption", ["newest", "srf", "cost"])
@pytest.mark.parametrize("blocks", [18, 30, 80])
def test_simulated_counts_add_up(tiny_model, block_bytes, eviction, preemption, blocks):
    rng = random.Random(blocks)
    prompts = grouped_prompts(blocks, 60, 4, 30, groups=5)
    lens = [rng.randint(1, 12) for _ in prompts]
    choices = [[[5, 6], [7, 8, 9], [10]] if rng.random() < 0.3 else None for _ in prompts]
    config = _config(tiny_model, blocks, block_bytes, eviction=eviction, preemption=preemption,
                     max_batch_tokens=rng.choice([16, 48]))
    stats = simulate(config, prompts, lens, choices=choices).stats
    assert_counts_add_up(stats)
    if blocks == 18:
        assert stats.preemptions > 0 and stats.recomputed_tokens > 0
