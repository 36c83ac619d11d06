"""Greedy engine output must equal transformers' generate(do_sample=False), token for token,
in every regime the engine has: plain batches, shared prefixes, chunked prefill, and a KV
budget small enough to force preemption and eviction."""
from __future__ import annotations

import random

import pytest

from executor.engine import Engine, EngineConfig, Request
from tests import hf_oracle


def _prompts(seed: int, n: int, lo: int, hi: int, shared: int = 0, vocab: int = 500) -> list[list[int]]:
    rng = random.Random(seed)
    prefix = [rng.randrange(1, vocab) for _ in range(shared)]
    return [prefix + [rng.randrange(1, vocab) for _ in range(rng.randint(lo, hi))] for _ in range(n)]


def _check(engine: Engine, path: str, prompts: list[list[int]], max_tokens: int) -> list:
    outs = engine.generate([Request(prompt_ids=p, max_tokens=max_tokens) for p in prompts])
    for p, out in zip(prompts, outs):
        assert out.token_ids == hf_oracle.greedy(path, p, max_tokens)
    return outs


def test_mixed_lengths_match_hf(arch_model):
    engine = Engine(EngineConfig(model=arch_model, kv_cache_bytes=8 << 20))
    _check(engine, arch_model, _prompts(1, 6, 1, 70), max_tokens=10)
    assert engine.stats.preemptions == 0


def test_prefix_sharing_matches_hf(arch_model):
    engine = Engine(EngineConfig(model=arch_model, kv_cache_bytes=8 << 20, block_size=8))
    prompts = _prompts(2, 6, 3, 20, shared=37)
    _check(engine, arch_model, prompts, max_tokens=8)
    assert engine.stats.cached_tokens >= 5 * 37   # five of the six reuse the shared prefix
    # A second pass finds everything but the last token of each prompt in the cache.
    engine.reset_stats()
    _check(engine, arch_model, prompts, max_tokens=8)
    assert engine.stats.cached_tokens == sum(len(p) - 1 for p in prompts)


def test_chunked_prefill_matches_hf(arch_model):
    engine = Engine(EngineConfig(model=arch_model, kv_cache_bytes=8 << 20, max_batch_tokens=24,
                                 block_size=8))
    prompts = _prompts(3, 5, 30, 90)
    _check(engine, arch_model, prompts, max_tokens=6)
    assert engine.stats.iterations > sum(len(p) for p in prompts) // 24


def test_preemption_and_eviction_match_hf(arch_model):
    # Room for about 14 blocks of 4 tokens: eight prompts of ~20 tokens cannot all fit.
    probe = Engine(EngineConfig(model=arch_model, kv_cache_bytes=1 << 20, block_size=4))
    per_block = probe.runner.kv.bytes_per_block
    engine = Engine(EngineConfig(model=arch_model, kv_cache_bytes=14 * per_block, block_size=4,
                                 max_batch_tokens=64))
    prompts = _prompts(4, 8, 12, 24, shared=8)
    _check(engine, arch_model, prompts, max_tokens=12)
    assert engine.stats.preemptions > 0
    assert engine.stats.recomputed_tokens > 0
    assert engine.stats.evicted_blocks > 0
    assert engine.stats.peak_blocks <= 14


@pytest.mark.parametrize("policy", ["newest", "srf"])
def test_preemption_policies_match_hf(tiny_model, policy):
    probe = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 20, block_size=4))
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=12 * probe.runner.kv.bytes_per_block,
                                 block_size=4, preemption=policy))
    _check(engine, tiny_model, _prompts(5, 6, 10, 20), max_tokens=14)
    assert engine.stats.preemptions > 0


def test_text_prompt_and_eos_match_hf(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20))
    tok = engine.tokenizer
    texts = ["Is this review positive? The movie was great.", "Hello", "The taste is bitter"]
    outs = engine.generate([Request(prompt=t, max_tokens=40) for t in texts])
    for t, out in zip(texts, outs):
        ref = hf_oracle.greedy(tiny_model, tok(t).input_ids, 40)
        assert out.token_ids == ref
        assert out.finish_reason == ("stop" if ref[-1] == tok.eos_token_id else "length")
        assert out.text == tok.decode(ref, skip_special_tokens=True)


def test_cascade_attention_is_used_and_matches_hf(arch_model, monkeypatch):
    engine = Engine(EngineConfig(model=arch_model, kv_cache_bytes=8 << 20, block_size=8))
    cascades = []
    build = engine.runner._cascades

    def spy(chunks, pb, rows_from):
        out = build(chunks, pb, rows_from)
        cascades.append(len(pb.cascades))
        return out

    monkeypatch.setattr(engine.runner, "_cascades", spy)
    prompts = _prompts(6, 8, 2, 30, shared=45)
    _check(engine, arch_model, prompts, max_tokens=8)
    assert max(cascades) >= 1
