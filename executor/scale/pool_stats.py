"""The pool's counters: the workers' engine counters summed, and listed per worker.

Each worker reports its engine's cumulative ``EngineStats`` with every batch of finished
requests; a lost worker's last report still counts. ``workers`` keys each worker by its id:
``requests`` there counts the answers the driver received from it, duplicates included, so
the workers' requests sum to the distinct requests of the calls exactly when no request was
answered twice (a request re-routed after a loss had not been answered).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from executor.engine.stats import EngineStats, TokenCounts

PER_WORKER = ("requests", *(f.name for f in fields(TokenCounts)), "seconds")


@dataclass
class PoolStats(EngineStats):
    workers: dict = field(default_factory=dict)     # worker id -> its figures (PER_WORKER)

    @classmethod
    def of(cls, slots) -> "PoolStats":
        total = cls()
        numbers = [f.name for f in fields(EngineStats)]
        for slot in slots:
            counters = slot.counters
            for name in numbers:
                value = counters.get(name, 0)
                if name == "peak_blocks":
                    total.peak_blocks = max(total.peak_blocks, value)
                else:
                    setattr(total, name, getattr(total, name) + value)
            figures = {"requests": slot.answered,
                       **{n: counters.get(n, 0) for n in PER_WORKER[1:-1]},
                       "seconds": counters.get("wall_seconds", 0.0)}
            total.workers[slot.worker_id] = {"node": slot.node, **figures,
                                             "lost": slot.lost is not None}
        return total
