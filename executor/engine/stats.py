"""Cumulative engine counters: what EXPLAIN ANALYZE, the tests and the benchmarks read.

The counting of scheduler steps lives here too (``count_step``, ``count_chunk``), because the
engine and the simulator both count the same steps: one definition, two users.
"""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class TokenCounts:
    """The counters an engine run and a SQL statement's LLM work share (the statement's are the
    engine's differences around its work). Every prompt token is counted once, either as
    ``cached_tokens`` (served from cached blocks) or in ``prefilled_tokens`` (computed);
    computing any token again, after a preemption or an eviction, adds it to both
    ``prefilled_tokens`` and ``recomputed_tokens``. So, once a run is complete,
    ``cached + prefilled == prompt + recomputed`` exactly. ``decoded_tokens`` counts the
    tokens generated after the prompt (sampled, or a choice's label tokens that were scored).
    ``preemptions`` counts both ways out."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    prefilled_tokens: int = 0
    decoded_tokens: int = 0
    recomputed_tokens: int = 0
    preemptions: int = 0


@dataclass
class EngineStats(TokenCounts):
    """Cumulative over an engine's life."""

    requests: int = 0
    swaps: int = 0                  # preemptions that went to host memory (and came back)
    swapped_blocks: int = 0         # KV blocks those moved out
    evicted_blocks: int = 0         # cached blocks dropped to make room
    peak_blocks: int = 0            # most blocks in use at once
    iterations: int = 0             # engine steps
    forced_tokens: int = 0          # output tokens a grammar forced, appended without decoding
    wall_seconds: float = 0.0       # inside generate()

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, type(getattr(self, f.name))())

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ---- counting -------------------------------------------------------------------------
    def count_step(self, step) -> None:
        """Preemptions, swaps and admissions of one scheduler ``Step``."""
        self.iterations += 1
        self.preemptions += len(step.preempted)
        self.swaps += len(step.swap_out)
        self.swapped_blocks += sum(len(b) for _, b in step.swap_out)
        for seq, cached in step.admitted:
            self.count_admission(seq, cached)

    def count_admission(self, seq, cached: int) -> None:
        """``seq`` starts with its first ``cached`` tokens from the cache. Only prompt tokens it
        never had before count: a sequence readmitted after a preemption may find more of its
        prompt cached than it had computed. ``seq.accounted`` marks how far it has had its
        tokens, from the cache or computed (a choice's child starts with its lead's prompt)."""
        fresh = max(0, min(cached, seq.prompt_len) - seq.accounted)
        seq.cached_tokens = max(seq.cached_tokens, 0) + fresh
        self.cached_tokens += fresh
        seq.accounted = max(seq.accounted, cached)

    def count_chunk(self, seq, start: int, end: int) -> None:
        """``seq`` computed its tokens [start, end): those below ``seq.accounted`` again, the
        prompt's others for the first time; a choice's label tokens count as decoded (a
        sampling sequence's, and any a grammar forced after them, are counted as they are
        sampled or forced: not prefill)."""
        again = max(0, min(end, seq.accounted) - start)
        first = max(start, seq.accounted)
        self.recomputed_tokens += again
        self.prefilled_tokens += again + max(0, min(end, seq.prompt_len) - first)
        if seq.is_scoring:
            self.decoded_tokens += max(0, end - max(first, seq.prompt_len))
        seq.accounted = max(seq.accounted, end)
