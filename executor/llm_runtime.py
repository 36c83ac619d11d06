"""Serves a query's LLM calls, one way through: ``answer(call, rows)``.

    render -> distinct -> result-cache lookup -> prefix order -> engine -> store

Every caller goes through it: a planned operator (all the rows that reach it, in the
optimizer's order), the optimizer's selectivity sample, ``executemany``'s batch of every
parameter set, and the lazy UDF (one DuckDB chunk at a time, for shapes the optimizer does not
plan). The estimates run its first stages (``prepare``, ``lookup``, ``tokenize``) without
inferring. So each distinct prompt is inferred at most once per model and decoding options,
ever: the catalog keeps it. Scale-out and typed outputs plug in here, once.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from catalog import Catalog

from . import overflow
from .limit_stream import StopAfter, stream
from .llm_call import LLMCall
from .models import ModelPool
from .plan import PREFIX
from .prefix_sharing import prefix_sorted, trie_tokens
from .progress import Progress, ProgressTracker
from .query_errors import InferenceError, QueryCancelled
from .result_writer import FLUSH_EVERY, ResultWriter
from .statement_stats import StatementStats

__all__ = ["LLMRuntime", "Progress", "PromptBatch", "StopAfter"]
log = logging.getLogger(__name__)
_TOKEN_CACHE = 200_000        # prompts whose token ids a connection remembers, per model


@dataclass
class PromptBatch:
    """One call's rows on their way to answers."""

    call: LLMCall
    prompts: list[str | None]                 # one per row (None: NULL or empty raw prompt);
                                              # a streamed LIMIT's: the rows it reached
    first_row: dict[str, tuple]               # distinct prompt -> the first row that gave it
    answers: dict[str, str | None] = field(default_factory=dict)   # prompt -> answer text
    sampled: list[str | None] | None = None   # per row, for a call that samples every row
    inferred: int = 0                         # requests this batch sent to the engine

    @property
    def unique(self) -> list[str]:
        return list(self.first_row)

    def texts(self) -> list[str | None]:
        """Every row's answer text (None where nothing answered it)."""
        if self.sampled is not None:
            return list(self.sampled)
        return [None if p is None else self.answers.get(p) for p in self.prompts]


class LLMRuntime:
    def __init__(self, catalog: Catalog, default_model: str | None,
                 builtin_model: Callable[[], str], engine_options: dict) -> None:
        self.catalog = catalog
        self.models = ModelPool(catalog, default_model, builtin_model, engine_options)
        self.tracker = ProgressTracker()
        self.flush_every = FLUSH_EVERY
        self._token_ids: dict[str, dict[str, list[int]]] = {}   # model folder -> prompt -> ids

    # ---- what callers outside the executor use --------------------------------------------
    @property
    def listeners(self) -> list[Callable[[Progress], None]]:
        return self.tracker.listeners

    @property
    def progress(self) -> Progress:
        return self.tracker.progress

    def begin_statement(self) -> None:
        self.tracker.begin_statement()

    def resolve(self, name: str | None) -> tuple[str, dict]:
        return self.models.resolve(name)

    def engine(self, name: str | None = None):
        return self.models.engine(name)

    @property
    def loaded(self) -> list:
        return self.models.loaded

    # ---- the answer path ------------------------------------------------------------------
    def answer(self, call: LLMCall, rows: list[tuple], stats: StatementStats, *,
               memo: dict | None = None, order: str = PREFIX, stop: StopAfter | None = None,
               future: list | None = None,
               should_stop: Callable[[], bool] | None = None) -> PromptBatch:
        """Answer ``call`` for ``rows`` (its argument values): each distinct prompt that
        neither ``memo`` (the statement's answers so far, filled in place) nor the result
        cache knows is inferred, in prefix order or as read, and stored as it completes.
        ``stop``: a LIMIT's filter, whose requests go in waves and end once enough passed;
        its rows are reached in the order given (``executor.limit_stream``).
        ``future``: requests later operators will send (the engine's ``belady`` eviction reads
        it). ``should_stop``: the statement's cancel flag, checked every engine iteration."""
        if stop is not None and call.deterministic:    # waves: only what they reach is
            batch = PromptBatch(call, [], {}, {} if memo is None else memo)   # prepared
            stream(self, batch, rows, stop, order, stats, should_stop)
            return batch
        batch = self.prepare(call, rows)
        if not call.deterministic:       # every row draws its own sample: nothing is shared
            todo = [p for p in batch.prompts if p is not None]
            it = iter(self.infer(call, todo, stats, should_stop=should_stop,
                                 rows_of=batch.first_row.get))
            batch.sampled = [None if p is None else next(it) for p in batch.prompts]
            batch.inferred = len(todo)
            return batch
        batch.answers = memo = {} if memo is None else memo
        new = [p for p in batch.unique if p not in memo]
        self.recall(call, new, stats, memo)
        todo = [p for p in new if p not in memo]
        if todo:
            self.engine_for(call)        # load it now: its tokenizer serves the ordering too
        todo, ids = self.ordered(call, todo, order)
        batch.inferred = len(todo)
        memo.update(zip(todo, self.infer(call, todo, stats, prompt_ids=ids, future=future,
                                         should_stop=should_stop, rows_of=batch.first_row.get)))
        return batch

    def prepare(self, call: LLMCall, rows: list[tuple]) -> PromptBatch:
        """Render one prompt per row, and find the distinct ones."""
        prompts = self.render(call, rows)
        first_row: dict[str, tuple] = {}
        for p, r in zip(prompts, rows):
            if p is not None:
                first_row.setdefault(p, r)
        return PromptBatch(call, prompts, first_row)

    def render(self, call: LLMCall, rows: list[tuple]) -> list[str | None]:
        """One prompt per row, shortened to fit the context where the call asks for it."""
        if call.on_overflow != "truncate":
            return [call.render(values) for values in rows]
        engine = self.engine_for(call)
        with self.models.lock:        # the engine's tokenizer is not shared across threads
            limit = overflow.budget(call, engine.tokenizer, engine.max_model_len)
            return [overflow.fit(call, list(values), engine.tokenizer, limit) for values in rows]

    def lookup(self, call: LLMCall, prompts: list[str], stats: StatementStats) -> dict[str, str | None]:
        """Answers the result cache already holds for these (distinct) prompts."""
        if not call.deterministic or not prompts:
            return {}
        known = self.catalog.cached(self.models.cache_key(call.model), call.options_key(), prompts)
        stats.cache_hits += len(known)
        return known

    def recall(self, call: LLMCall, prompts: list[str], stats: StatementStats,
               memo: dict) -> dict[str, str | None]:
        """``lookup``, with the answers found put in ``memo`` and shown as cached rows."""
        known = self.lookup(call, prompts, stats)
        self.tracker.progress.cached_rows += len(known)
        memo.update(known)
        return known

    def tokenize(self, call: LLMCall, prompts: list[str]) -> list[list[int]]:
        """Token ids exactly as the engine computes them (through the chat template). Each
        prompt is tokenized once, however many rules, estimates and operators ask."""
        from executor.engine.requests_prep import encode_prompts

        tokenizer = self.models.tokenizer(call.model)
        with self.models.lock:
            known = self._token_ids.setdefault(self.models.settings(call.model)[0], {})
            if len(known) + len(prompts) > _TOKEN_CACHE:
                known.clear()
            missing = [p for p in dict.fromkeys(prompts) if p not in known]
            if missing:          # one batch call: the fast tokenizer encodes it in parallel
                known.update(zip(missing, encode_prompts(tokenizer, missing, chat=True)))
            return [known[p] for p in prompts]

    def choice_ids(self, call: LLMCall) -> list[list[int]] | None:
        """The token ids of a call's choices (LLM_FILTER's, LLM_CLASSIFY's labels) as the
        engine scores them, or None for a call that decodes."""
        if call.choices is None:
            return None
        from executor.engine.requests_prep import encode_choices

        return encode_choices(self.models.tokenizer(call.model), call.choices)

    def ordered(self, call: LLMCall, prompts: list[str],
                order: str) -> tuple[list[str], list[list[int]] | None]:
        """``prompts`` in the order to send them, and their token ids when they were needed
        for it: depth first through the prefix trie (PREFIX), or as given (TABLE)."""
        if not prompts or order != PREFIX:
            return prompts, None
        ids = self.tokenize(call, prompts)
        perm = prefix_sorted(ids)
        return [prompts[i] for i in perm], [ids[i] for i in perm]

    def engine_for(self, call: LLMCall):
        """The call's engine; a model that fails to load is reported with the call."""
        try:
            return self.models.engine(call.model)
        except InferenceError as exc:
            raise InferenceError(f"{call.sql}: {exc}") from exc

    # ---- the engine -----------------------------------------------------------------------
    def infer(self, call: LLMCall, prompts: list[str], stats: StatementStats, *,
              prompt_ids: list[list[int]] | None = None,
              should_stop: Callable[[], bool] | None = None,
              enough: Callable[[str, str], bool] | None = None,
              future: list | None = None,
              rows_of: Callable[[str], tuple | None] = lambda p: None) -> list[str | None]:
        """Infer ``prompts`` in the given order and store each answer as it completes; the
        answers, aligned with ``prompts`` (None where ``enough`` ended the work first).
        ``prompt_ids``: their token ids when known, so the engine does not tokenize again.
        ``enough(prompt, text)`` says when the caller has all it needs; ``rows_of`` names a
        prompt's row in errors."""
        from executor.engine import CancelledError, EngineError, Request

        if not prompts:
            return []
        engine = self.engine_for(call)
        if prompt_ids is None:
            prompt_ids = self.tokenize(call, prompts)
        reqs = [Request(prompt_ids=ids, max_tokens=call.max_tokens, temperature=call.temperature,
                        seed=call.seed, choices=call.choices, json_schema=call.schema)
                for ids in prompt_ids]
        writer = ResultWriter(self.catalog, self.models.cache_key(call.model),
                              call.options_key() if call.deterministic else None, self.flush_every)
        answers: list[str | None] = [None] * len(prompts)
        satisfied = [False]

        def on_result(i: int, out) -> None:
            answers[i] = out.text
            writer.add(prompts[i], out.text)
            if call.choices is None:        # a row that stopped early frees its decode budget
                p.tokens_total -= decode_budget - len(out.token_ids)
            if enough is not None and enough(prompts[i], out.text):
                satisfied[0] = True

        def stop() -> bool:
            return satisfied[0] or (should_stop is not None and should_stop())

        p = self.tracker.progress
        base = p.rows_done
        p.rows_total += len(prompts)
        # a typed call's max_tokens is its type's worst case: the progress bar counts its
        # expected length instead, and corrects by each row's real one as it finishes
        decode_budget = 1 if call.choices is not None else call.expected_tokens
        # What the engine will compute: shared prefixes once (their prefix-cache hits are no
        # work), and each row's decode budget.
        p.tokens_total += trie_tokens(prompt_ids) + decode_budget * len(prompts)
        tokens_before = p.tokens

        def on_progress(done: int, total: int) -> None:
            s = engine.stats
            p.rows_done = base + done
            p.tokens = (tokens_before + s.prefilled_tokens + s.decoded_tokens
                        - before["prefilled_tokens"] - before["decoded_tokens"])
            self.tracker.notify()

        with self.models.lock:
            # Engine time only: a DuckDB thread waiting here for another's batch is not
            # inferring, and statement timing (EXPLAIN ANALYZE) subtracts this from wall time.
            started, before = time.perf_counter(), engine.stats.as_dict()
            try:
                engine.generate(reqs, progress=on_progress, on_result=on_result,
                                should_stop=stop, future=future)
            except CancelledError as exc:
                if not satisfied[0]:
                    # A plain error, not KeyboardInterrupt: DuckDB then ends the query normally.
                    raise QueryCancelled(str(exc)) from exc
            except EngineError as exc:
                raise InferenceError(_describe(call, exc, prompts, rows_of)) from exc
            finally:
                writer.flush()
                stats.llm_calls += sum(a is not None for a in answers) if satisfied[0] else len(reqs)
                stats.add_engine_delta(before, engine.stats.as_dict())
                stats.seconds += time.perf_counter() - started
        return answers


def _describe(call: LLMCall, exc, prompts: list[str], rows_of) -> str:
    """Name the call and, when one request is at fault, the row it came from."""
    where = ""
    index = getattr(exc, "request_index", None)
    if index is not None and index < len(prompts):
        values = rows_of(prompts[index])
        if values is not None:
            names = call.field_names or ("prompt",)
            shown = ", ".join(f"{n}={_short(v)}" for n, v in zip(names, values))
            where = f" at the row with {shown}"
    message = str(exc).split(": ", 1)[-1] if index is not None else str(exc)
    return f"{call.sql}{where}: {message}"


def _short(value, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."
