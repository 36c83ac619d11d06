"""Cumulative engine counters: what EXPLAIN ANALYZE, the tests and the benchmarks read.

The counting of scheduler steps lives here too (``count_step``, ``count_chunk``), because the
engine and the simulator both count the same steps: one definition, two users.
"""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class TokenCounts:
    """The counters an engine run and a SQL statement's LLM work share (the statement's are the
    engine's differences around its work). ``prefilled_tokens`` counts every prompt token that
    went through the model, recomputation included; ``cached_tokens`` counts prompt tokens
    served from cached blocks. ``preemptions`` counts both ways out."""

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
        """Preemptions, swaps and first admissions of one scheduler ``Step``."""
        self.iterations += 1
        self.preemptions += len(step.preempted)
        self.swaps += len(step.swap_out)
        self.swapped_blocks += sum(len(b) for _, b in step.swap_out)
        for seq, cached in step.admitted:
            if seq.cached_tokens < 0:
                seq.cached_tokens = min(cached, seq.prompt_len)
                # A choice's child re-reads its request's prompt; prompt_tokens counted that
                # prompt once, so cached_tokens does too.
                if not (seq.is_scoring and seq.score_start >= seq.prompt_len):
                    self.cached_tokens += seq.cached_tokens

    def count_chunk(self, seq, start: int, end: int) -> None:
        """A chunk of output tokens (a sampled one, and any a grammar forced after it) is
        decoding, not prefill; a chunk of prompt or of tokens to recompute is prefill."""
        decoding = start >= max(seq.prompt_len, seq.recompute_until)
        if not decoding:
            self.prefilled_tokens += end - start
            self.recomputed_tokens += max(0, min(end, seq.recompute_until) - start)
