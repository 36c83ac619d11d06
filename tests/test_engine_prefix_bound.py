"""Prefix sharing is real: rows that share an instruction pay for it once."""
from __future__ import annotations

import random

from executor.engine import Engine, EngineConfig, Request


def test_64_prompts_with_shared_200_token_prefix(tiny_model):
    rng = random.Random(0)
    prefix = [rng.randrange(1, 500) for _ in range(200)]
    prompts = [prefix + [rng.randrange(1, 500) for _ in range(40)] for _ in range(64)]
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=16 << 20))   # block_size 16
    outs = engine.generate([Request(prompt_ids=p, max_tokens=2) for p in prompts])
    s = engine.stats
    assert s.prefilled_tokens <= 200 + 64 * 41, s
    assert s.cached_tokens >= 63 * 200, s
    assert s.prompt_tokens == 64 * 240
    assert all(len(o.token_ids) == 2 for o in outs)


def test_prefix_caching_off_prefills_everything(tiny_model):
    rng = random.Random(1)
    prefix = [rng.randrange(1, 500) for _ in range(64)]
    prompts = [prefix + [rng.randrange(1, 500) for _ in range(8)] for _ in range(8)]
    on = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20))
    off = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20, prefix_caching=False))
    reqs = [Request(prompt_ids=p, max_tokens=3) for p in prompts]
    assert [o.token_ids for o in on.generate(reqs)] == [o.token_ids for o in off.generate(reqs)]
    assert off.stats.prefilled_tokens == off.stats.prompt_tokens == 8 * 72
    assert off.stats.cached_tokens == 0
    assert on.stats.prefilled_tokens < 72 + 7 * 16


def test_finished_blocks_stay_cached_across_calls(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20))
    prompt = list(range(1, 101))
    engine.generate([Request(prompt_ids=prompt, max_tokens=1)])
    engine.reset_stats()
    engine.generate([Request(prompt_ids=prompt + [7, 8], max_tokens=1)])
    assert engine.stats.cached_tokens == 100
    assert engine.stats.prefilled_tokens == 2
