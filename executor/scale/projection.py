"""What EXPLAIN shows of a scaled-out operator before it runs: each worker's share and the
estimated makespan.

The requests (token ids, in plan order) are routed exactly as the pool routes them
(``routing.route``, the same cost model), and each share is simulated on its own engine (the
same scheduler and block manager as a worker's, priced by the cost model): the makespan is the
slowest share. No Ray, no torch: EXPLAIN stays cheap. (The N-worker simulator of
bench/scale_bench.py can take this function's place.)
"""
from __future__ import annotations

from dataclasses import dataclass

from executor.engine.routing import route
from executor.engine.simulator import simulate


@dataclass(frozen=True)
class ShareEstimate:
    worker: int
    requests: int
    prompt_tokens: int
    prefill_tokens: int           # prompt tokens the worker is expected to compute
    seconds: float


@dataclass(frozen=True)
class ScaleEstimate:
    shares: list[ShareEstimate]

    @property
    def makespan(self) -> float:
        return max((s.seconds for s in self.shares), default=0.0)

    @property
    def cached_tokens(self) -> int:
        return sum(s.prompt_tokens - s.prefill_tokens for s in self.shares)


def project_shares(config, prompts: list[list[int]], output_lens: list[int], workers: int,
                   cost_model=None) -> ScaleEstimate:
    """Route ``prompts`` over ``workers`` engines of ``config`` and simulate each share."""
    shares = []
    for share in route(prompts, workers, output_lens, cost_model):
        mine = share.indexes()
        if not mine:
            shares.append(ShareEstimate(share.worker, 0, 0, 0, 0.0))
            continue
        sim = simulate(config, [prompts[i] for i in mine], [output_lens[i] for i in mine],
                       cost_model)
        seconds = sim.seconds + sim.cost_model.request_seconds(len(mine))
        shares.append(ShareEstimate(share.worker, len(mine), sim.stats.prompt_tokens,
                                    sim.stats.prefilled_tokens, seconds))
    return ScaleEstimate(shares)
