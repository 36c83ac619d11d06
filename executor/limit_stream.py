"""A LIMIT's filter, streamed: requests go in waves and stop once enough rows passed.

    SELECT a.id, b.id FROM r a JOIN r b ON a.id < b.id
    WHERE LLM_FILTER('Do the two reviews agree?', a.review, b.review) LIMIT 10

has 32,640 candidate pairs and needs some 20 answers. So the work before the first request
must grow with the waves run, not with the candidates: the rows come in the order their
requests should go, and each wave's rows are rendered, looked up in the result cache and
tokenized only when it is about to run, then sent in exact token-id order. (Tokenizing every
candidate to sort them all by token ids took 3-5 s for those 32k pairs on two cores, 30 times
the inference.)

For prefix sharing that order is the one the optimizer's driver query gives them
(``optimizer/drivers.py``): sorted by the call's fields in the prompt's order, which is their
prompts' text order. Rows whose prompts share a text prefix then come together, and prompts
that share a text prefix share their token prefix up to the last token boundary inside it. So
each shared prefix is still computed by one contiguous run of requests, across waves too (the
engine keeps a finished wave's blocks cached). Operators that run all their rows keep the full
token-id depth-first order (``LLMRuntime.ordered``).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Callable

from .llm_call import LLMCall
from .plan import DEFAULT_SELECTIVITY
from .statement_stats import StatementStats

if TYPE_CHECKING:           # the runtime imports this module
    from .llm_runtime import LLMRuntime, PromptBatch

MIN_WAVE = 8                # requests in a wave at least: a batch keeps the engine busy
RENDER_CHUNK = 256          # rows rendered at a time as the waves reach them


@dataclass(frozen=True)
class StopAfter:
    """A LIMIT's filter: enough once ``rows`` distinct prompts got an answer in ``passes``."""

    passes: tuple[str, ...]
    rows: int


def reached(runtime: "LLMRuntime", call: LLMCall, rows: list[tuple],
            batch: "PromptBatch") -> Iterator[str]:
    """The distinct prompts of ``rows``, in their order, rendered a chunk at a time as they
    are asked for; ``batch`` records every row rendered (its prompt, and each prompt's first
    row)."""
    for start in range(0, len(rows), RENDER_CHUNK):
        chunk = rows[start:start + RENDER_CHUNK]
        for prompt, row in zip(runtime.render(call, chunk), chunk):
            batch.prompts.append(prompt)
            if prompt is not None and prompt not in batch.first_row:
                batch.first_row[prompt] = row
                yield prompt


def wave_size(remaining: int, passed: int, seen: int, rows: int) -> int:
    """Requests in the next wave: what should still be needed at the selectivity seen so far
    (``passed`` of ``seen`` answers; the default before any), with half again as margin."""
    rate = max(passed / seen, 0.05) if seen else DEFAULT_SELECTIVITY
    return min(remaining, max(MIN_WAVE, int(1.5 * (rows - passed) / rate) + 1))


def stream(runtime: "LLMRuntime", batch: "PromptBatch", rows: list[tuple], stop: StopAfter,
           order: str, stats: StatementStats, should_stop: Callable[[], bool] | None) -> None:
    """Answer ``batch.call`` over ``rows`` wave by wave until ``stop`` has enough rows: each
    wave's prompts are rendered, answered from the statement's memo (``batch.answers``) or
    the result cache where they can be, and the rest tokenized and inferred (in token-id
    order when ``order`` is PREFIX); a wave ends as soon as enough passed. ``batch`` holds
    the rows reached, not all of ``rows``."""
    call, memo = batch.call, batch.answers
    prompts = reached(runtime, call, rows, batch)
    passed = [0]

    def enough(prompt: str, text: str) -> bool:
        passed[0] += text in stop.passes
        return passed[0] >= stop.rows

    seen = left = 0
    while passed[0] < stop.rows:
        wave = list(islice(prompts, wave_size(len(rows) - left, passed[0], seen, stop.rows)))
        if not wave:
            break
        left += len(wave)
        known = [p for p in wave if p in memo]       # an earlier operator of this call's
        known += list(runtime.recall(call, [p for p in wave if p not in memo], stats, memo))
        passed[0] += sum(memo[p] in stop.passes for p in known)
        rest = [p for p in wave if p not in memo]
        if rest and passed[0] < stop.rows:
            runtime.engine_for(call)        # loaded first: its tokenizer then tokenizes
            rest, ids = runtime.ordered(call, rest, order)
            batch.inferred += len(rest)
            answers = runtime.infer(call, rest, stats, prompt_ids=ids, should_stop=should_stop,
                                    enough=enough, rows_of=batch.first_row.get)
            memo.update((p, a) for p, a in zip(rest, answers) if a is not None)
        seen += sum(p in memo for p in wave)
