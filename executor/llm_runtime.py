"""Serves a query's LLM calls, one way through: render -> deduplicate -> result-cache lookup
-> engine -> store.

Two callers use the same path. A planned LLM operator (``executor/run_plan.py``) hands over all
the rows that reach it, in the optimizer's order; a lazy UDF (a shape the optimizer does not
plan, or planning turned off) hands over one DuckDB chunk at a time. Either way each distinct
prompt is inferred at most once per model and decoding options, ever: the catalog keeps it.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from catalog import Catalog

from . import overflow
from .errors import InferenceError, QueryCancelled
from .llm_call import LLMCall
from .models import ModelPool
from .progress import Progress, ProgressTracker
from .result_writer import FLUSH_EVERY, ResultWriter
from .statement_stats import StatementStats

__all__ = ["LLMRuntime", "Progress"]
log = logging.getLogger(__name__)


class LLMRuntime:
    def __init__(self, catalog: Catalog, default_model: str | None,
                 builtin_model: Callable[[], str], engine_options: dict) -> None:
        self.catalog = catalog
        self.models = ModelPool(catalog, default_model, builtin_model, engine_options)
        self.tracker = ProgressTracker()
        self.flush_every = FLUSH_EVERY

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

    # ---- render ---------------------------------------------------------------------------
    def render(self, call: LLMCall, rows: list[tuple]) -> list[str | None]:
        """One prompt per row of argument values (None for a NULL or empty raw prompt),
        shortened to fit the context where the call asks for it."""
        if call.on_overflow != "truncate":
            return [call.render(list(values)) for values in rows]
        engine = self.engine_for(call)
        with self.models.lock:        # the engine's tokenizer is not shared across threads
            limit = overflow.budget(call, engine.tokenizer, engine.max_model_len)
            return [overflow.fit(call, list(values), engine.tokenizer, limit) for values in rows]

    def engine_for(self, call: LLMCall):
        """The call's engine; a model that fails to load is reported with the call."""
        try:
            return self.models.engine(call.model)
        except InferenceError as exc:
            raise InferenceError(f"{call.sql}: {exc}") from exc

    # ---- cache lookup ---------------------------------------------------------------------
    def lookup(self, call: LLMCall, prompts: list[str], stats: StatementStats) -> dict[str, str | None]:
        """Answers the result cache already holds for these (distinct) prompts."""
        if not call.deterministic or not prompts:
            return {}
        known = self.catalog.cached(self.models.cache_key(call.model), call.options_key(), prompts)
        stats.cache_hits += len(known)
        self.tracker.progress.cached_rows += len(known)
        return known

    # ---- engine ---------------------------------------------------------------------------
    def infer(self, call: LLMCall, prompts: list[str], stats: StatementStats, *,
              prompt_ids: list[list[int]] | None = None,
              should_stop: Callable[[], bool] | None = None,
              enough: Callable[[str, str], bool] | None = None,
              future: list | None = None,
              rows_of: Callable[[str], tuple | None] = lambda p: None) -> list[str | None]:
        """Infer ``prompts`` in the given order and store each answer as it completes; the
        answers, aligned with ``prompts`` (None where ``enough`` ended the work first).

        ``prompt_ids``: their token ids when the caller has them (the planner tokenized them
        to order them), so the engine does not tokenize again. ``enough(prompt, text)`` says
        when the caller has all it needs (a LIMIT that enough rows passed): the rest is
        dropped and the answers so far are returned. ``should_stop`` is the statement's cancel
        flag, checked every engine iteration. ``future``: requests later operators will send
        (the engine's plan-aware eviction reads it). ``rows_of`` names a prompt's row in errors.
        """
        from executor.engine import CancelledError, EngineError, Request

        if not prompts:
            return []
        engine = self.engine_for(call)
        if prompt_ids is None:
            reqs = [Request(prompt=p, max_tokens=call.max_tokens, temperature=call.temperature,
                            seed=call.seed, choices=call.choices, chat=True) for p in prompts]
        else:
            reqs = [Request(prompt_ids=ids, max_tokens=call.max_tokens,
                            temperature=call.temperature, seed=call.seed, choices=call.choices)
                    for ids in prompt_ids]
        writer = ResultWriter(self.catalog, self.models.cache_key(call.model),
                              call.options_key() if call.deterministic else None, self.flush_every)
        answers: list[str | None] = [None] * len(prompts)
        satisfied = [False]

        def on_result(i: int, out) -> None:
            answers[i] = out.text
            writer.add(prompts[i], out.text)
            if enough is not None and enough(prompts[i], out.text):
                satisfied[0] = True

        def stop() -> bool:
            return satisfied[0] or (should_stop is not None and should_stop())

        p = self.tracker.progress
        base = p.rows_done
        p.rows_total += len(prompts)
        decode_budget = 1 if call.choices is not None else call.max_tokens
        p.tokens_total += sum(len(i) for i in prompt_ids) if prompt_ids else 0
        p.tokens_total += decode_budget * len(prompts)
        before = engine.stats.as_dict()
        tokens_before = p.tokens

        def on_progress(done: int, total: int) -> None:
            s = engine.stats
            p.rows_done = base + done
            p.tokens = (tokens_before + s.prefilled_tokens + s.decoded_tokens
                        - before["prefilled_tokens"] - before["decoded_tokens"])
            self.tracker.notify()

        started = time.perf_counter()
        with self.models.lock:
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

    # ---- the lazy path: one DuckDB chunk ---------------------------------------------------
    def evaluate(self, call: LLMCall, columns: list[list], stats: StatementStats,
                 should_stop: Callable[[], bool] | None = None) -> list:
        """The call's SQL value for every row of a chunk; ``columns`` are its argument
        values, one list per argument."""
        rows = list(zip(*columns)) if columns else []
        prompts = self.render(call, rows)
        first_row = {}
        for p, r in zip(prompts, rows):
            first_row.setdefault(p, r)
        if not call.deterministic:       # every row draws its own sample: nothing is shared
            todo = [p for p in prompts if p is not None]
            it = iter(self.infer(call, todo, stats, should_stop=should_stop,
                                 rows_of=first_row.get))
            stats.lazy_evaluations += len(todo)
            return [None if p is None else call.decode(next(it)) for p in prompts]
        unique = list(dict.fromkeys(p for p in prompts if p is not None))
        known = self.lookup(call, unique, stats)
        todo = [p for p in unique if p not in known]
        known.update(zip(todo, self.infer(call, todo, stats, should_stop=should_stop,
                                          rows_of=first_row.get)))
        stats.lazy_evaluations += len(todo)
        return [None if p is None else call.decode(known[p]) for p in prompts]


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
