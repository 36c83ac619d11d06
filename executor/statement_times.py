"""Where one statement's wall time went: planning, driver queries, inference, the final pass.

A planned statement can spend more time deciding what to infer than inferring it (tokenizing
every candidate of a LIMIT to sort them, say), and an operator's figures show only its engine
time. So the statement runs against one clock: each stretch of it, from the statement's start
to its result, is charged to the phase that ran it, and the engine time inside the stretch
(``StatementStats.seconds``, measured around ``engine.generate``) to inference instead. The
phases therefore add up to the statement's wall time, and EXPLAIN ANALYZE prints them.

- planning: parsing, the optimizer's rules and estimates, and the runtime's preparation of
  each operator's requests (rendering, result-cache lookups, ordering, tokenizing), shown
  apart as ``requests``;
- driver queries: DuckDB computing each operator's input rows;
- inference: the engine, wherever it ran (a selectivity sample, an operator, the lazy path);
- final pass: DuckDB running the statement with the answers bound, its result read.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

PLANNING, REQUESTS, DRIVERS, FINAL_PASS = "planning", "requests", "drivers", "final_pass"


@dataclass
class StatementTimes:
    """Seconds per phase; ``requests`` is the part of ``planning`` spent preparing requests."""

    planning: float = 0.0
    requests: float = 0.0
    drivers: float = 0.0
    inference: float = 0.0
    final_pass: float = 0.0

    @property
    def total(self) -> float:
        return self.planning + self.drivers + self.inference + self.final_pass

    def as_dict(self) -> dict[str, float]:
        return {"total": self.total, "planning": self.planning, "requests": self.requests,
                "driver_queries": self.drivers, "inference": self.inference,
                "final_pass": self.final_pass}


class PhaseClock:
    """Charges the time since the last ``lap`` to a phase, less the engine time spent in it.

    ``inferred`` returns the statement's engine seconds so far (cumulative); until ``watch``
    gives one, nothing has been inferred."""

    def __init__(self, started: float | None = None) -> None:
        self.times = StatementTimes()
        self._last = time.perf_counter() if started is None else started
        self._inferred: Callable[[], float] = lambda: 0.0
        self._inferred_at_last = 0.0

    def watch(self, inferred: Callable[[], float]) -> None:
        self._inferred = inferred

    def lap(self, phase: str) -> None:
        now, inferred = time.perf_counter(), self._inferred()
        spent, engine = now - self._last, inferred - self._inferred_at_last
        self._last, self._inferred_at_last = now, inferred
        self.times.inference += engine
        if phase == REQUESTS:           # a part of planning, shown on its own too
            self.times.requests += spent - engine
            phase = PLANNING
        setattr(self.times, phase, getattr(self.times, phase) + spent - engine)
