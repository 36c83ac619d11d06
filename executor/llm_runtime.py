"""Serves a query's LLM calls: one engine per model, the result cache, progress reporting.

A call's rows arrive in chunks (DuckDB's vectorized UDFs hand over up to 2048 rows at a time).
For each chunk the runtime renders the prompts, drops duplicates, takes what the catalog's
result cache already holds, and sends only the rest to the engine as one batch. Finished results
are written back while the batch is still running, so an interrupted query keeps them.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

from catalog import Catalog

from . import overflow
from .errors import BadCallError, InferenceError, QueryCancelled
from .llm_call import LLMCall

log = logging.getLogger(__name__)

FLUSH_EVERY = 32          # default results per cache write while a batch runs
FLUSH_SECONDS = 1.0       # ... or sooner, once this much time has passed


@dataclass
class Progress:
    """What a progress bar shows: rows of LLM work done / known so far, and tokens."""

    rows_done: int = 0
    rows_total: int = 0
    cached_rows: int = 0
    tokens: int = 0
    seconds: float = 0.0


class LLMRuntime:
    def __init__(self, catalog: Catalog, default_model: str | None,
                 builtin_model: Callable[[], str], engine_options: dict) -> None:
        """``builtin_model`` makes the fallback model's folder; it runs at most once."""
        self.catalog = catalog
        self.default_model = default_model
        self._builtin_model = builtin_model
        self.engine_options = dict(engine_options)
        self._engines: dict[str, object] = {}
        self._lock = threading.RLock()
        self.listeners: list[Callable[[Progress], None]] = []
        self.progress = Progress()
        self._started = time.perf_counter()
        self.flush_every = FLUSH_EVERY

    # ---- models ---------------------------------------------------------------------------
    def resolve(self, name: str | None) -> tuple[str, dict]:
        """(folder, engine options) of a model name, a folder path, or the default."""
        if name is None:
            name = self.default_model
        if name is None:
            entry = self.catalog.default_model()
            if entry:
                return entry.path, entry.options
            if isinstance(self._builtin_model, Callable):     # resolve (and announce) once
                self._builtin_model = self._builtin_model()
            return self._builtin_model, {}
        entry = self.catalog.model(name)
        if entry is not None:
            return entry.path, entry.options
        if os.path.isdir(name):
            return os.path.abspath(name), {}
        known = ", ".join(e.name for e in self.catalog.models()) or "none registered"
        raise BadCallError(f"unknown model {name!r} (registered: {known}); register it with "
                           "connection.register_model(name, folder) or pass a model folder")

    def _settings(self, name: str | None) -> tuple[str, dict]:
        """(folder, engine options): the connection's options under the model's own."""
        path, options = self.resolve(name)
        return path, {**self.engine_options, **options}

    def engine(self, name: str | None = None):
        """The loaded engine for a model, loading it on first use."""
        from executor.engine import Engine, EngineConfig, EngineError

        path, merged = self._settings(name)
        key = json.dumps([path, merged], sort_keys=True, default=str)
        with self._lock:
            if key not in self._engines:
                try:
                    self._engines[key] = Engine(EngineConfig(model=path, **merged))
                except (EngineError, TypeError) as exc:
                    raise InferenceError(f"model {name or path!r} failed to load: {exc}") from exc
            return self._engines[key]

    def cache_key(self, name: str | None) -> str:
        """The result cache's name for a model: its folder and the dtype it runs in, since
        float32 and bfloat16 answers can differ. Known without loading the model, so a fully
        cached query never loads it. (The default dtype is the engine's: bfloat16 on CUDA,
        float32 elsewhere.)"""
        path, merged = self._settings(name)
        device = str(merged.get("device") or "cpu")
        dtype = merged.get("dtype") or ("bfloat16" if device.startswith("cuda") else "float32")
        return f"{path} [{dtype}]"

    @property
    def loaded(self) -> list:
        return list(self._engines.values())

    # ---- evaluation -----------------------------------------------------------------------
    def begin_statement(self) -> None:
        """Start counting progress afresh for a new statement."""
        self.progress = Progress()
        self._started = time.perf_counter()

    def evaluate(self, call: LLMCall, columns: list[list],
                 should_stop: Callable[[], bool] | None = None) -> list:
        """The call's SQL value for every row of a chunk; ``columns`` are its argument
        values, one list per argument. ``should_stop`` is the statement's cancel flag, checked
        every engine iteration (per statement, so cancelling one cursor's statement leaves
        other threads' statements running)."""
        prompts = self._prompts(call, columns)
        model_key = self.cache_key(call.model)
        if not call.deterministic:       # every row draws its own sample: nothing is shared
            texts = self._infer(call, model_key, [p for p in prompts if p is not None], columns,
                                prompts, should_stop)
            it = iter(texts)
            return [None if p is None else call.decode(next(it)) for p in prompts]
        unique = list(dict.fromkeys(p for p in prompts if p is not None))
        options = call.options_key()
        known = self.catalog.cached(model_key, options, unique)
        todo = [p for p in unique if p not in known]
        self.progress.cached_rows += len(unique) - len(todo)
        if todo:
            known.update(zip(todo, self._infer(call, model_key, todo, columns, prompts,
                                               should_stop, options)))
        return [None if p is None else call.decode(known[p]) for p in prompts]

    def _prompts(self, call: LLMCall, columns: list[list]) -> list[str | None]:
        """One prompt per row (None for a NULL raw prompt), shortened to fit the context
        where the call asks for it."""
        rows = [[c[i] for c in columns] for i in range(len(columns[0]) if columns else 0)]
        if call.on_overflow != "truncate":
            return [call.render(values) for values in rows]
        engine = self._engine_for(call)
        with self._lock:              # the engine's tokenizer is not shared across threads
            limit = overflow.budget(call, engine.tokenizer, engine.max_model_len)
            return [overflow.fit(call, values, engine.tokenizer, limit) for values in rows]

    def _engine_for(self, call: LLMCall):
        """The call's engine; a model that fails to load is reported with the call."""
        try:
            return self.engine(call.model)
        except InferenceError as exc:
            raise InferenceError(f"{call.sql}: {exc}") from exc

    def _infer(self, call: LLMCall, model_key: str, todo: list[str], columns, prompts,
               should_stop: Callable[[], bool] | None,
               options: str | None = None) -> list[str]:
        from executor.engine import CancelledError, EngineError, Request

        engine = self._engine_for(call)
        reqs = [Request(prompt=p, max_tokens=call.max_tokens, temperature=call.temperature,
                        seed=call.seed, choices=call.choices, chat=True) for p in todo]
        pending: dict[str, str] = {}
        last_flush = [time.perf_counter()]

        def flush() -> None:
            if options is not None and pending:
                self.catalog.store(model_key, options, dict(pending))
            pending.clear()
            last_flush[0] = time.perf_counter()

        def on_result(i: int, out) -> None:
            pending[todo[i]] = out.text
            if len(pending) >= self.flush_every or time.perf_counter() - last_flush[0] > FLUSH_SECONDS:
                flush()

        base = self.progress.rows_done
        self.progress.rows_total += len(todo)
        # Engine stats are cumulative over the connection; progress counts this statement.
        tokens_before = self.progress.tokens - engine.stats.prefilled_tokens - engine.stats.decoded_tokens

        def on_progress(done: int, total: int) -> None:
            self.progress.rows_done = base + done
            s = engine.stats
            self.progress.tokens = tokens_before + s.prefilled_tokens + s.decoded_tokens
            self.progress.seconds = time.perf_counter() - self._started
            for listener in self.listeners:
                listener(self.progress)

        with self._lock:
            try:
                outs = engine.generate(reqs, progress=on_progress, on_result=on_result,
                                       should_stop=should_stop)
            except CancelledError as exc:
                # A plain error, not KeyboardInterrupt: DuckDB then ends the query normally.
                raise QueryCancelled(str(exc)) from exc
            except EngineError as exc:
                raise InferenceError(self._describe(call, exc, todo, columns, prompts)) from exc
            finally:
                flush()
        return [o.text for o in outs]

    @staticmethod
    def _describe(call: LLMCall, exc, todo, columns, prompts) -> str:
        """Name the call and, when one request is at fault, the row it came from."""
        where = ""
        index = getattr(exc, "request_index", None)
        if index is not None and index < len(todo):
            row = prompts.index(todo[index])
            names = call.field_names or ("prompt",)
            shown = ", ".join(f"{n}={_short(c[row])}" for n, c in zip(names, columns))
            where = f" at the row with {shown}"
        message = str(exc).split(": ", 1)[-1] if index is not None else str(exc)
        return f"{call.sql}{where}: {message}"


def _short(value, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."
