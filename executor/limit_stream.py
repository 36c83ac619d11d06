"""A LIMIT's filter, streamed: requests go in waves and stop once enough rows passed.

    SELECT a.id, b.id FROM r a JOIN r b ON a.id < b.id
    WHERE LLM_FILTER('Do the two reviews agree?', a.review, b.review) LIMIT 10

has 32,640 candidate pairs and needs some 20 answers. So the work before the first request
must grow with the waves run, not with the candidates: the distinct prompts are put in text
order (a string sort, some 10 ms for 32k prompts), and each wave is looked up in the result
cache and tokenized only when it is about to run, then sent in exact token-id order. Sorting
every candidate by token ids first would tokenize them all (3-5 s for those 32k pairs on two
cores, 30 times the inference).

Text order keeps the sharing of token order: prompts that share a text prefix are contiguous
in it, and share their token prefix up to the last token boundary inside it, so each shared
prefix is still computed by one contiguous run of requests, across waves too (the engine keeps
a finished wave's blocks cached). Operators that run all their rows keep the full token-id
depth-first order (``LLMRuntime.ordered``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .plan import DEFAULT_SELECTIVITY, PREFIX
from .statement_stats import StatementStats

if TYPE_CHECKING:           # the runtime imports this module
    from .llm_runtime import LLMRuntime, PromptBatch

MIN_WAVE = 8                # requests in a wave at least: a batch keeps the engine busy


@dataclass(frozen=True)
class StopAfter:
    """A LIMIT's filter: enough once ``rows`` distinct prompts got an answer in ``passes``."""

    passes: tuple[str, ...]
    rows: int

    def passed(self, answers: dict, prompts: list[str]) -> int:
        return sum(answers[p] in self.passes for p in prompts if p in answers)


def send_order(prompts: list[str], order: str) -> list[str]:
    """The order a streamed LIMIT reaches its prompts in: text order for prefix sharing
    (PREFIX), as given otherwise (TABLE)."""
    return sorted(prompts) if order == PREFIX else list(prompts)


def wave_size(remaining: int, passed: int, seen: int, rows: int) -> int:
    """Requests in the next wave: what should still be needed at the selectivity seen so far
    (``passed`` of ``seen`` answers; the default before any), with half again as margin."""
    rate = max(passed / seen, 0.05) if seen else DEFAULT_SELECTIVITY
    return min(remaining, max(MIN_WAVE, int(1.5 * (rows - passed) / rate) + 1))


def stream(runtime: "LLMRuntime", batch: "PromptBatch", stop: StopAfter, order: str,
           stats: StatementStats, should_stop: Callable[[], bool] | None) -> None:
    """Answer ``batch`` wave by wave until ``stop`` has enough rows: each wave's prompts are
    looked up in the result cache, then the rest tokenized, sorted and inferred; a wave ends
    as soon as enough passed. ``batch.answers`` (the statement's memo) fills in place."""
    call, memo = batch.call, batch.answers
    passed = [stop.passed(memo, batch.unique)]
    todo = send_order([p for p in batch.unique if p not in memo], order)

    def enough(prompt: str, text: str) -> bool:
        passed[0] += text in stop.passes
        return passed[0] >= stop.rows

    done = seen = 0
    while done < len(todo) and passed[0] < stop.rows:
        wave = todo[done:done + wave_size(len(todo) - done, passed[0], seen, stop.rows)]
        done += len(wave)
        known = runtime.recall(call, wave, stats, memo)
        passed[0] += sum(text in stop.passes for text in known.values())
        rest = [p for p in wave if p not in memo]
        if rest and passed[0] < stop.rows:
            runtime.engine_for(call)        # loaded first: its tokenizer then tokenizes
            rest, ids = runtime.ordered(call, rest, order)
            batch.inferred += len(rest)
            answers = runtime.infer(call, rest, stats, prompt_ids=ids, should_stop=should_stop,
                                    enough=enough, rows_of=batch.first_row.get)
            memo.update((p, a) for p, a in zip(rest, answers) if a is not None)
        seen += sum(p in memo for p in wave)
