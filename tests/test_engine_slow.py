"""Longer equivalence runs (``pytest -m slow``): a larger random model, a batch big enough for
many iterations, shared prefixes, chunked prefill and a KV budget that forces preemption."""
from __future__ import annotations

import random

import pytest

from executor.engine import Engine, EngineConfig, Request
from tests import hf_oracle

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("arch", ["qwen2", "llama", "mistral"])
def test_small_model_under_pressure_matches_hf(model_factory, arch):
    path = model_factory(arch, size="small")
    rng = random.Random(7)
    prefixes = [[rng.randrange(1, 500) for _ in range(rng.randint(20, 90))] for _ in range(4)]
    prompts = [rng.choice(prefixes) + [rng.randrange(1, 500) for _ in range(rng.randint(1, 60))]
               for _ in range(32)]
    probe = Engine(EngineConfig(model=path, kv_cache_bytes=1 << 20, block_size=8))
    engine = Engine(EngineConfig(model=path, kv_cache_bytes=60 * probe.runner.kv.bytes_per_block,
                                 block_size=8, max_batch_tokens=128, preemption="srf"))
    outs = engine.generate([Request(prompt_ids=p, max_tokens=24) for p in prompts])
    for p, out in zip(prompts, outs):
        assert out.token_ids == hf_oracle.greedy(path, p, 24)
    assert engine.stats.preemptions > 0 and engine.stats.cached_tokens > 0
