"""N workers projected by the simulator: every row runs once, each worker is the one-engine
simulator over its share, and prefix routing keeps the single engine's prefill and a balanced
makespan where dealing rows round-robin or in table-order chunks computes each movie's prefix on
many workers. Issue 26's figures at 100,000 rows are bench/scale_bench.py's; this is the same
check on 6,000 rows."""
from __future__ import annotations

import pytest

from executor.engine.config import EngineConfig
from executor.engine.geometry import bytes_per_block, read_geometry
from executor.engine.routing import neighbour_prefixes
from executor.engine.simulate_workers import shares_of, simulate_workers, single_engine
from executor.engine.simulator import simulate
from executor.engine.synthetic_prompts import PrefixShape, synthetic_prompts
from executor.prefix_sharing import trie_tokens


def config(model: str, kv_tokens: int) -> EngineConfig:
    """One worker's engine with a KV cache of ``kv_tokens`` tokens."""
    per_block = bytes_per_block(read_geometry(model), 16, "float32")
    return EngineConfig(model=model, kv_cache_bytes=kv_tokens // 16 * per_block)


def share_tries(prompts, result) -> int:
    """Tokens the workers must prefill at least: each computes its rows' prefix trie once."""
    return sum(trie_tokens([prompts[i] for i in run.indexes]) for run in result.runs)


@pytest.fixture(scope="module")
def movies():
    """6,000 movie-shaped rows in a shuffled table order, one output token each (a filter)."""
    prompts = synthetic_prompts(6000, seed=1)
    return prompts, [1] * len(prompts)


def test_prefix_routing_at_eight_workers_meets_issue_26(tiny_model, movies):
    prompts, lens = movies
    worker = config(tiny_model, 4096)
    one = simulate_workers(single_engine(worker, 8), prompts, lens, 1)
    prefix = simulate_workers(worker, prompts, lens, 8, "prefix")
    dealt = simulate_workers(worker, prompts, lens, 8, "round_robin", sort_shares=False)
    chunks = simulate_workers(worker, prompts, lens, 8, "chunks", sort_shares=False)
    assert prefix.prefilled_tokens <= 1.05 * one.prefilled_tokens
    assert prefix.makespan <= 1.25 * one.makespan / 8
    # Each worker meets most movies and, with a small cache, recomputes their prefixes.
    assert dealt.prefilled_tokens >= 1.5 * prefix.prefilled_tokens
    assert chunks.prefilled_tokens >= 1.5 * prefix.prefilled_tokens
    assert dealt.makespan >= 1.3 * prefix.makespan


def test_each_worker_prefills_its_shares_trie_when_its_cache_holds_the_prefixes(tiny_model):
    prompts = synthetic_prompts(2000, seed=2)
    lens = [1] * len(prompts)
    worker = config(tiny_model, 1 << 16)
    tries = {}
    for routing in ("prefix", "round_robin", "chunks"):
        result = simulate_workers(worker, prompts, lens, 8, routing)
        tries[routing] = share_tries(prompts, result)
        assert result.prefilled_tokens == pytest.approx(tries[routing], rel=1e-3)
    # Prefix routing loses at most what the rows on either side of each of its 7 cuts share.
    most = max(neighbour_prefixes(sorted(prompts)))
    assert trie_tokens(prompts) <= tries["prefix"] <= trie_tokens(prompts) + 7 * most
    assert tries["round_robin"] >= 1.2 * tries["prefix"] and tries["chunks"] >= 1.2 * tries["prefix"]


def test_one_worker_is_the_single_engine_simulation(tiny_model):
    prompts = synthetic_prompts(800, PrefixShape(group_prefix=(40, 80)), seed=3)
    lens = [1 + i % 4 for i in range(len(prompts))]
    worker = config(tiny_model, 2048)
    result = simulate_workers(worker, prompts, lens, 1)
    order = sorted(range(len(prompts)), key=prompts.__getitem__)
    alone = simulate(worker, [prompts[i] for i in order], [lens[i] for i in order])
    (run,) = result.runs
    assert run.indexes == order
    assert run.stats == alone.stats
    assert run.seconds == result.makespan == pytest.approx(
        alone.seconds + alone.cost_model.request_seconds(len(prompts)))


@pytest.mark.parametrize("routing", ["prefix", "round_robin", "chunks"])
@pytest.mark.parametrize("workers", [3, 64])
def test_every_row_runs_once(tiny_model, routing, workers):
    prompts = synthetic_prompts(300, seed=workers)
    lens = [2] * len(prompts)
    result = simulate_workers(config(tiny_model, 4096), prompts, lens, workers, routing)
    assert sorted(i for run in result.runs for i in run.indexes) == list(range(len(prompts)))
    assert result.prompt_tokens == sum(map(len, prompts))
    assert sum(run.stats.decoded_tokens for run in result.runs) == sum(lens)
    assert result.makespan == max(run.seconds for run in result.runs)
    assert result.total_seconds == pytest.approx(sum(run.seconds for run in result.runs))


def test_table_order_dealings():
    prompts = [[i] for i in range(10)]
    assert shares_of(prompts, [1] * 10, 3, "round_robin") == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert shares_of(prompts, [1] * 10, 3, "chunks") == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]


def test_more_workers_than_rows_leaves_workers_idle(tiny_model):
    result = simulate_workers(config(tiny_model, 4096), [[1, 2, 3], [1, 2, 4]], [1, 1], 4)
    assert [run.requests for run in result.runs].count(0) >= 2
    assert all(run.seconds == 0 for run in result.runs if not run.requests)


def test_unknown_routing_names_the_choices():
    with pytest.raises(ValueError, match="prefix, round_robin, chunks"):
        shares_of([[1]], [1], 2, "random")
