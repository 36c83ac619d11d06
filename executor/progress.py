"""What a progress bar shows about a statement's LLM work, and who gets told.

Rows move when requests finish; tokens move every engine iteration, so a long generation shows
progress between finished rows. The display (``infersql/progress_bar.py``) takes its ETA from
the token rate over the token budget still to go (prompt tokens plus the most tokens each
request may decode).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Progress:
    """Rows of LLM work done / known so far, cache hits, and tokens done / budgeted."""

    rows_done: int = 0
    rows_total: int = 0
    cached_rows: int = 0
    tokens: int = 0             # prompt tokens prefilled + tokens decoded so far
    tokens_total: int = 0       # the token budget of the requests sent so far
    seconds: float = 0.0


class ProgressTracker:
    """One statement's progress, told to every listener (the CLI's progress bar)."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[Progress], None]] = []
        self.progress = Progress()
        self._started = time.perf_counter()

    def begin_statement(self) -> None:
        self.progress = Progress()
        self._started = time.perf_counter()

    def notify(self) -> None:
        self.progress.seconds = time.perf_counter() - self._started
        for listener in self.listeners:
            listener(self.progress)
