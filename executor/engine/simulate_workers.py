"""N engine workers projected by the simulator: each worker's share, seconds and tokens.

Why: scale-out (Ray actors, one engine each) is judged on what no test machine can run: 100,000
rows on 8 or 64 workers. Each worker is an engine of its own, so N workers are N independent
runs of ``simulate``, the same scheduler and block manager code, each over the rows it was
given and told its own future (its share's later requests, for ``belady``). The projection
is as exact as one simulated engine is; it leaves out work stealing (which evens out what the
cost estimate got wrong) and the driver's own time.

Routings (which rows go to which worker):

* ``prefix``: the rows in trie order, cut by ``routing.route`` into contiguous shares of whole
  subtrees balanced by estimated cost; a shared prefix is computed on one worker.
* ``round_robin``: row i of the table to worker i mod N, as a router that does not read the
  prompts deals them (Ray Data hands out blocks of rows in table order the same way).
* ``chunks``: the table cut into N contiguous runs of equal row counts.

By default every worker runs its rows in trie order, whatever the routing (as if the driver
sorted the whole list, then dealt it), so the routings differ only in which rows meet on
which worker: the fairest baseline. ``sort_shares=False`` runs the baselines' shares in table
order instead, as an engine behind Ray Data gets them.

``config`` is one worker's engine: its ``kv_cache_bytes`` is each worker's cache.
``single_engine(config, workers)`` is the yardstick: one engine with the sum of the caches.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

from .config import EngineConfig
from .cost_model import CostModel, load_cost_model
from .routing import route
from .simulator import SimResult, simulate
from .stats import EngineStats

__all__ = ["ROUTINGS", "WorkerRun", "WorkersResult", "shares_of", "simulate_workers",
           "single_engine"]

ROUTINGS = ("prefix", "round_robin", "chunks")


@dataclass
class WorkerRun:
    """One worker's projected run: the rows it got (indexes into the prompts as given, in the
    order it ran them), what the simulator counted, and its seconds: the simulated iterations
    plus each request's work outside them (``CostModel.request_seconds``), as the optimizer
    estimates one engine."""

    worker: int
    indexes: list[int]
    seconds: float
    stats: EngineStats

    @property
    def requests(self) -> int:
        return len(self.indexes)


@dataclass
class WorkersResult:
    routing: str
    runs: list[WorkerRun] = field(default_factory=list)

    @property
    def makespan(self) -> float:
        """Seconds until the last worker finishes (they start together)."""
        return max((r.seconds for r in self.runs), default=0.0)

    @property
    def total_seconds(self) -> float:
        """Busy seconds summed over the workers: the work done, duplicated prefixes included."""
        return sum(r.seconds for r in self.runs)

    @property
    def prefilled_tokens(self) -> int:
        return sum(r.stats.prefilled_tokens for r in self.runs)

    @property
    def prompt_tokens(self) -> int:
        return sum(r.stats.prompt_tokens for r in self.runs)


def single_engine(config: EngineConfig, workers: int) -> EngineConfig:
    """One engine with the KV cache of ``workers`` workers together: the bound routing is
    measured against (every prefix computed once, with as much cache as the cluster)."""
    return replace(config, kv_cache_bytes=config.kv_cache_bytes * workers)


def shares_of(prompts: Sequence[Sequence[int]], output_lens: Sequence[int], workers: int,
              routing: str = "prefix", cost_model: CostModel | None = None) -> list[list[int]]:
    """Each worker's rows, as indexes into ``prompts`` (in table order): for ``prefix`` in
    trie order, for the baselines in table order."""
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {', '.join(ROUTINGS)}, not {routing!r}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    n = len(prompts)
    if routing == "round_robin":
        return [list(range(w, n, workers)) for w in range(workers)]
    if routing == "chunks":
        return [list(range(n * w // workers, n * (w + 1) // workers)) for w in range(workers)]
    order = sorted(range(n), key=prompts.__getitem__)
    shares = route([prompts[i] for i in order], workers, [output_lens[i] for i in order],
                   cost_model)
    return [[order[i] for i in share.indexes()] for share in shares]


def simulate_workers(config: EngineConfig, prompts: Sequence[Sequence[int]],
                     output_lens: Sequence[int], workers: int, routing: str = "prefix",
                     cost_model: CostModel | None = None,
                     sort_shares: bool = True) -> WorkersResult:
    """Project ``workers`` engines, each built from ``config``, running ``prompts`` (token ids,
    in table order) with ``output_lens`` new tokens each, dealt by ``routing``.

    Each worker runs its share in one call with its share as its future. Returns per-worker
    runs; ``makespan`` is the slowest worker's seconds. A worker with no rows runs nothing."""
    if cost_model is None:          # the one simulate would take, shared with the routing
        cost_model = load_cost_model(None, config.model, config.device, config.dtype,
                                     config.block_size)
    result = WorkersResult(routing)
    for w, rows in enumerate(shares_of(prompts, output_lens, workers, routing, cost_model)):
        if sort_shares and routing != "prefix":          # prefix shares are in trie order
            rows = sorted(rows, key=prompts.__getitem__)
        sim = _run(config, [prompts[i] for i in rows], [output_lens[i] for i in rows],
                   cost_model)
        seconds = sim.seconds + cost_model.request_seconds(len(rows))
        result.runs.append(WorkerRun(w, rows, seconds, sim.stats))
    return result


def _run(config: EngineConfig, prompts: list, output_lens: list,
         cost_model: CostModel) -> SimResult:
    if not prompts:
        return SimResult(0.0, EngineStats())
    return simulate(config, prompts, output_lens, cost_model)
