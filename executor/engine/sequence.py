"""One sequence's state as the scheduler and block manager see it.

A user request becomes one sequence, or, for a request with ``choices``, a *scoring* lead plus
one child per multi-token choice. Scoring sequences decode nothing: they only need the log-
probabilities of known target tokens at known positions.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:     # the simulator runs the scheduler without importing torch
    import torch


class Status(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass
class SamplingParams:
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    generator: torch.Generator | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False


@dataclass
class Sequence:
    """``token_ids`` holds the prompt then every sampled token; ``num_computed`` of them have
    their K/V in ``block_ids``. ``score_targets`` (scoring only) are the tokens whose log-
    probabilities are summed, predicted from positions ``score_start``, ``score_start + 1``, …"""

    seq_id: int
    request_index: int
    arrival: tuple[int, int]      # (generate call, index in it): the submitted order
    token_ids: list[int]
    prompt_len: int
    params: SamplingParams
    score_start: int | None = None
    score_targets: list[list[int]] = field(default_factory=list)   # candidates per position
    status: Status = Status.WAITING
    num_computed: int = 0
    block_ids: list[int] = field(default_factory=list)
    block_hashes: list[int] = field(default_factory=list)
    cached_tokens: int = -1          # prompt tokens served from cache; -1 = never admitted
    accounted: int = 0               # tokens below this were served from cache or computed once
    swapped_blocks: int = 0          # blocks held in host memory while swapped out
    scores: list[list[float]] = field(default_factory=list)        # log-probs, same shape
    finish_reason: str | None = None
    text: str | None = None          # set when a stop string cut the output
    matcher: Any = None              # grammar state after the accepted outputs (json_schema)
    forced_tokens: int = 0           # outputs the grammar forced (jump-forward), not sampled

    @property
    def is_scoring(self) -> bool:
        return self.score_start is not None

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def num_to_compute(self) -> int:
        return len(self.token_ids) - self.num_computed

    @property
    def output_ids(self) -> list[int]:
        return self.token_ids[self.prompt_len:]

    def logit_positions(self, start: int, end: int) -> list[int]:
        """Positions in [start, end) whose logits this sequence needs once they are computed."""
        if self.is_scoring:
            return list(range(max(start, self.score_start), end))
        return [end - 1] if end == len(self.token_ids) else []


@dataclass
class Chunk:
    """``seq`` computes its tokens [start, end) this iteration."""

    seq: Sequence
    start: int
    end: int
