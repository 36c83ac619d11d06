"""Cumulative engine counters: what EXPLAIN ANALYZE, the tests and the benchmarks read."""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class EngineStats:
    """``prefilled_tokens`` counts every prompt token that went through the model, recomputation
    included; ``cached_tokens`` counts prompt tokens served from cached blocks."""

    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    prefilled_tokens: int = 0
    decoded_tokens: int = 0
    recomputed_tokens: int = 0
    preemptions: int = 0
    swaps: int = 0
    evicted_blocks: int = 0
    peak_blocks: int = 0
    iterations: int = 0
    wall_seconds: float = 0.0

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, type(getattr(self, f.name))())

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}
