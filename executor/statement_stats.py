"""What one statement's LLM work cost, per operator and in total.

The cursor exposes the total as ``cursor.stats``; EXPLAIN ANALYZE prints each operator's
figures beside the optimizer's estimates. Engine counters are cumulative over a connection,
so each operator takes the difference of the engine's stats around its own work.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from executor.engine.stats import TokenCounts

_SHOWN = ("llm_calls", "cache_hits", *(f.name for f in fields(TokenCounts)), "evictions",
          "lazy_evaluations", "cast_failures", "seconds")   # the order EXPLAIN ANALYZE prints


@dataclass
class StatementStats(TokenCounts):
    """``llm_calls``: requests sent to the engine; ``cache_hits``: distinct prompts answered by
    the result cache; ``evictions``: cached KV blocks the engine evicted; ``lazy_evaluations``:
    rows computed outside the plan (a planning miss, or every row when the statement was not
    planned); ``cast_failures``: typed answers that read NULL because their type could not hold
    them."""

    llm_calls: int = 0
    cache_hits: int = 0
    evictions: int = 0
    lazy_evaluations: int = 0
    cast_failures: int = 0          # typed answers their type could not hold (read NULL)
    seconds: float = 0.0
    workers: dict = field(default_factory=dict)   # scale-out: worker id -> its figures

    def add(self, other: "StatementStats") -> None:
        for f in fields(self):
            if f.name != "workers":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        for worker, figures in other.workers.items():
            self._add_worker(worker, figures)

    def add_engine_delta(self, before: dict, after: dict) -> None:
        """Add what the engine counted between two ``EngineStats.as_dict()`` snapshots; a
        pool of workers (``executor.scale``) also reports each worker's figures."""
        for f in fields(TokenCounts):
            setattr(self, f.name, getattr(self, f.name) + after[f.name] - before[f.name])
        self.evictions += after["evicted_blocks"] - before["evicted_blocks"]
        for worker, figures in after.get("workers", {}).items():
            earlier = before.get("workers", {}).get(worker, {})
            delta = {k: v if isinstance(v, (str, bool)) else v - earlier.get(k, 0)
                     for k, v in figures.items()}
            newly_lost = figures.get("lost") and not earlier.get("lost")
            if delta.get("requests") or delta.get("prompt_tokens") or newly_lost:
                self._add_worker(worker, delta)

    def _add_worker(self, worker, figures: dict) -> None:
        mine = self.workers.setdefault(worker, {})
        for k, v in figures.items():
            mine[k] = v if isinstance(v, (str, bool)) else mine.get(k, 0) + v

    def as_dict(self) -> dict:
        """The figures to show; ``cast_failures`` only when there were any."""
        return {name: getattr(self, name) for name in _SHOWN
                if name != "cast_failures" or self.cast_failures}
