"""Serves a query's LLM calls: one engine per model, the result cache, progress reporting.

A call's rows arrive in chunks (DuckDB's vectorized UDFs hand over up to 2048 rows at a time).
For each chunk the runtime renders the prompts, drops duplicates, takes what the catalog's
result cache already holds, and sends only the rest to the engine as one batch. Finished results
are written back while the batch is still running, so an interrupted query keeps them.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

from catalog import Catalog

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
        self.cancel = threading.Event()     # set to stop the running statement's inference

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
            return name, {}
        known = ", ".join(e.name for e in self.catalog.models()) or "none registered"
        raise BadCallError(f"unknown model {name!r} (registered: {known}); register it with "
                           "connection.register_model(name, folder) or pass a model folder")

    def engine(self, name: str | None = None):
        """The loaded engine for a model, loading it on first use."""
        from executor.engine import Engine, EngineConfig, EngineError

        path, options = self.resolve(name)
        with self._lock:
            if path not in self._engines:
                try:
                    self._engines[path] = Engine(EngineConfig(
                        model=path, **{**self.engine_options, **options}))
                except (EngineError, TypeError) as exc:
                    raise InferenceError(f"model {name or path!r} failed to load: {exc}") from exc
            return self._engines[path]

    @property
    def loaded(self) -> list:
        return list(self._engines.values())

    # ---- evaluation -----------------------------------------------------------------------
    def begin_statement(self) -> None:
        self.cancel.clear()
        self.progress = Progress()
        self._started = time.perf_counter()

    def evaluate(self, call: LLMCall, columns: list[list]) -> list:
        """The call's SQL value for every row of a chunk; ``columns`` are its argument
        values, one list per argument."""
        rows = len(columns[0]) if columns else 0
        prompts = [call.render([c[i] for c in columns]) for i in range(rows)]
        path, _ = self.resolve(call.model)
        if not call.deterministic:       # every row draws its own sample: nothing is shared
            texts = self._infer(call, path, [p for p in prompts if p is not None], columns, prompts)
            it = iter(texts)
            return [None if p is None else call.decode(next(it)) for p in prompts]
        unique = list(dict.fromkeys(p for p in prompts if p is not None))
        options = call.options_key()
        known = self.catalog.cached(path, options, unique)
        todo = [p for p in unique if p not in known]
        self.progress.cached_rows += len(unique) - len(todo)
        if todo:
            known.update(zip(todo, self._infer(call, path, todo, columns, prompts, options)))
        return [None if p is None else call.decode(known[p]) for p in prompts]

    def _infer(self, call: LLMCall, path: str, todo: list[str], columns, prompts,
               options: str | None = None) -> list[str]:
        from executor.engine import CancelledError, EngineError, Request

        engine = self.engine(call.model)
        reqs = [Request(prompt=p, max_tokens=call.max_tokens, temperature=call.temperature,
                        seed=call.seed, choices=call.choices, chat=True) for p in todo]
        pending: dict[str, str] = {}
        last_flush = [time.perf_counter()]

        def flush() -> None:
            if options is not None and pending:
                self.catalog.store(path, options, dict(pending))
            pending.clear()
            last_flush[0] = time.perf_counter()

        def on_result(i: int, out) -> None:
            pending[todo[i]] = out.text
            if len(pending) >= self.flush_every or time.perf_counter() - last_flush[0] > FLUSH_SECONDS:
                flush()

        base = self.progress.rows_done
        self.progress.rows_total += len(todo)

        def on_progress(done: int, total: int) -> None:
            self.progress.rows_done = base + done
            s = engine.stats
            self.progress.tokens = s.prefilled_tokens + s.decoded_tokens
            self.progress.seconds = time.perf_counter() - self._started
            for listener in self.listeners:
                listener(self.progress)

        with self._lock:
            try:
                outs = engine.generate(reqs, progress=on_progress, on_result=on_result,
                                       should_stop=self.cancel.is_set)
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
