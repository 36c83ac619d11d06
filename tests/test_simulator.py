"""The simulator runs the engine's own scheduler and block manager: with the same requests it
counts exactly what the engine counts, sizes the pool exactly as the engine does, and needs
neither the weights nor torch."""
from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from executor.engine import Engine, EngineConfig, Request
from executor.engine.geometry import bytes_per_block, read_geometry
from executor.engine.simulator import simulate

COUNTED = ("requests", "prompt_tokens", "cached_tokens", "prefilled_tokens", "decoded_tokens",
           "recomputed_tokens", "preemptions", "swaps", "evicted_blocks", "peak_blocks",
           "iterations")


def _workload(seed: int, n: int):
    rng = random.Random(seed)
    prefixes = [[rng.randrange(1, 500) for _ in range(rng.randint(8, 30))] for _ in range(3)]
    prompts = [rng.choice(prefixes) + [rng.randrange(1, 500) for _ in range(rng.randint(1, 25))]
               for _ in range(n)]
    return prompts, [rng.randint(1, 12) for _ in prompts]


@pytest.mark.parametrize("eviction,preemption,blocks", [
    ("lru", "newest", 400), ("lru", "srf", 24), ("belady", "newest", 24), ("lfu", "cost", 24),
    ("belady", "cost", 30)])
def test_simulated_counts_equal_the_engines(tiny_model, eviction, preemption, blocks):
    per_block = bytes_per_block(read_geometry(tiny_model), 4, "float32")
    config = EngineConfig(model=tiny_model, kv_cache_bytes=blocks * per_block,
                          block_size=4, max_batch_tokens=64, eviction=eviction,
                          preemption=preemption)
    prompts, lens = _workload(1, 14)
    engine = Engine(config)
    engine.generate([Request(prompt_ids=p, max_tokens=n, ignore_eos=True)
                     for p, n in zip(prompts, lens)])
    sim = simulate(config, prompts, lens)
    assert sim.num_blocks == engine.num_blocks
    assert {k: getattr(sim.stats, k) for k in COUNTED} == {k: getattr(engine.stats, k) for k in COUNTED}
    assert sim.seconds == pytest.approx(sum(r.seconds for r in sim.timeline))
    assert len(sim.timeline) == engine.stats.iterations
    assert max(sim.finish_seconds) == pytest.approx(sim.seconds)
    if blocks < 100:
        assert sim.stats.preemptions > 0


@pytest.mark.parametrize("blocks", [20, 400])
def test_simulated_choice_children_count_what_the_engines_count(tiny_model, blocks):
    """LLM_CLASSIFY's multi-token labels: a scoring lead, then one child per label that
    re-reads the prompt from the cache; the simulator runs the same sequences."""
    per_block = bytes_per_block(read_geometry(tiny_model), 4, "float32")
    config = EngineConfig(model=tiny_model, kv_cache_bytes=blocks * per_block, block_size=4,
                          max_batch_tokens=64)
    prompts, _ = _workload(3, 16)
    labels = ["positive", "negative", "neutral", "yes"]
    engine = Engine(config)
    engine.generate([Request(prompt_ids=p, choices=labels) for p in prompts])
    ids = [engine.tokenizer.encode(c, add_special_tokens=False) for c in labels]
    sim = simulate(config, prompts, [1] * len(prompts), choices=[ids] * len(prompts))
    assert {k: getattr(sim.stats, k) for k in COUNTED} == {k: getattr(engine.stats, k) for k in COUNTED}
    assert sim.stats.decoded_tokens == len(prompts) * sum(len(c) - 1 for c in ids)


def test_simulator_imports_no_torch(tiny_model):
    code = ("import sys; from executor.engine.simulator import simulate; "
            "from executor.engine.config import EngineConfig; "
            f"r = simulate(EngineConfig(model={tiny_model!r}), [[1, 2, 3]], [2]); "
            "assert r.stats.decoded_tokens == 2; "
            f"r = simulate(EngineConfig(model={tiny_model!r}), [[1, 2, 3]], [1], "
            "choices=[[[4, 5], [6]]]); assert r.stats.decoded_tokens == 1; "
            "assert 'torch' not in sys.modules, 'torch'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_belady_beats_lru_on_interleaved_prefixes(tiny_model):
    rng = random.Random(3)
    prefixes = [[rng.randrange(1, 500) for _ in range(64)] for _ in range(12)]
    prompts = [prefixes[i % 12] + [rng.randrange(1, 500) for _ in range(8)] for i in range(600)]
    lens = [2] * len(prompts)
    per_block = bytes_per_block(read_geometry(tiny_model), 8, "float32")
    prefilled = {}
    for eviction in ("lru", "belady"):
        config = EngineConfig(model=tiny_model, block_size=8, kv_cache_bytes=90 * per_block,
                              eviction=eviction, max_batch_tokens=160)
        prefilled[eviction] = simulate(config, prompts, lens).stats.prefilled_tokens
    assert prefilled["belady"] < 0.8 * prefilled["lru"]


def test_ten_thousand_requests_in_seconds(tiny_model):
    prompts, lens = _workload(2, 10_000)
    start = time.perf_counter()
    sim = simulate(EngineConfig(model=tiny_model, kv_cache_bytes=2 << 20, eviction="belady",
                                preemption="cost"), prompts, lens)
    assert sim.stats.requests == 10_000 and sim.stats.decoded_tokens == sum(lens)
    assert time.perf_counter() - start < 60
