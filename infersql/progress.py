"""A progress bar over a statement's LLM work: rows, tokens/s and ETA, on a terminal only."""
from __future__ import annotations

import sys

from executor.llm_runtime import Progress


class ProgressBar:
    """Listens to the runtime; draws with rich on stderr when stderr is a terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None
        self._task = None

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar,
                                       TextColumn, TimeRemainingColumn)

            self._bar = Bar(TextColumn("LLM rows"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                            console=Console(file=sys.stderr), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("llm", total=p.rows_total, rate="")
        rate = f"{p.tokens / p.seconds:,.0f} tok/s" if p.seconds > 0 else ""
        self._bar.update(self._task, completed=p.rows_done, total=p.rows_total, rate=rate)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
