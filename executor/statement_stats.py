"""What one statement's LLM work cost, per operator and in total.

The cursor exposes the total as ``cursor.stats``; EXPLAIN ANALYZE prints each operator's
figures beside the optimizer's estimates. Engine counters are cumulative over a connection,
so each operator takes the difference of the engine's stats around its own work.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

_ENGINE_FIELDS = {"prompt_tokens": "prompt_tokens", "cached_tokens": "cached_tokens",
                  "prefilled_tokens": "prefilled_tokens", "decoded_tokens": "decoded_tokens",
                  "preemptions": "preemptions", "evictions": "evicted_blocks",
                  "recomputed_tokens": "recomputed_tokens"}


@dataclass
class StatementStats:
    """``llm_calls``: requests sent to the engine; ``cache_hits``: distinct prompts answered by
    the result cache; ``lazy_evaluations``: rows computed outside the plan (a planning miss,
    or every row when the statement was not planned)."""

    llm_calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    prefilled_tokens: int = 0
    decoded_tokens: int = 0
    recomputed_tokens: int = 0
    preemptions: int = 0
    evictions: int = 0
    lazy_evaluations: int = 0
    seconds: float = 0.0

    def add(self, other: "StatementStats") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def add_engine_delta(self, before: dict, after: dict) -> None:
        """Add what the engine counted between two ``EngineStats.as_dict()`` snapshots."""
        for mine, theirs in _ENGINE_FIELDS.items():
            setattr(self, mine, getattr(self, mine) + after[theirs] - before[theirs])

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}
