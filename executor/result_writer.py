"""Write-behind of finished LLM results into the catalog's result cache.

Results are stored while the engine is still running, in batches (a statement per row would
cost some 5 ms each on a database file, and the engine waits while they are written), so an
interrupted or killed query keeps what it had finished.
"""
from __future__ import annotations

import time

from catalog import Catalog

FLUSH_EVERY = 32          # results per cache write while a batch runs
FLUSH_SECONDS = 1.0       # ... or sooner, once this much time has passed


class ResultWriter:
    def __init__(self, catalog: Catalog, model_key: str, options: str | None,
                 flush_every: int = FLUSH_EVERY) -> None:
        """``options`` None: the call is not deterministic, so nothing is stored."""
        self.catalog, self.model_key, self.options = catalog, model_key, options
        self.flush_every = flush_every
        self._pending: dict[str, str | None] = {}
        self._last = time.perf_counter()

    def add(self, prompt: str, text: str | None) -> None:
        if self.options is None:
            return
        self._pending[prompt] = text
        if (len(self._pending) >= self.flush_every
                or time.perf_counter() - self._last > FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.catalog.store(self.model_key, self.options, dict(self._pending))
            self._pending.clear()
        self._last = time.perf_counter()
