"""A one-line progress display for a statement's LLM work, on a terminal only.

It counts tokens as well as rows, because with long generations rows finish in bursts near
the end while tokens flow every engine iteration; so the bar moves whenever the engine does.
The ETA comes from the token rate and the statement's remaining token budget
(``tokens_total``: prompt tokens plus max new tokens of the requests sent so far), and only
from the row rate when no budget is known. It also shows how many rows the result cache
answered. One line on stderr, redrawn in place at most ``FRAMES_PER_SECOND`` times a second;
piped output never sees it.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time

FRAMES_PER_SECOND = 10
BAR_WIDTH = 20


def eta_seconds(p) -> float | None:
    """Seconds left: remaining token budget over the token rate so far, else by rows."""
    total = getattr(p, "tokens_total", 0) or 0
    if total > 0 and p.tokens > 0 and p.seconds > 0:
        return max(total - p.tokens, 0) / (p.tokens / p.seconds)
    if p.rows_done > 0 and p.rows_total > 0 and p.seconds > 0:
        return p.seconds * (p.rows_total - p.rows_done) / p.rows_done
    return None


def fraction_done(p) -> float:
    total = getattr(p, "tokens_total", 0) or 0
    if total > 0:
        return min(p.tokens / total, 1.0)
    return p.rows_done / p.rows_total if p.rows_total else 0.0


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def describe(p) -> str:
    """The text of one frame, without the bar: rows, cache hits, tokens, rate, ETA."""
    parts = [f"{p.rows_done}/{p.rows_total} rows"]
    if p.cached_rows:
        parts.append(f"{p.cached_rows} cached")
    total = getattr(p, "tokens_total", 0) or 0
    parts.append(f"{p.tokens:,}/{total:,} tok" if total else f"{p.tokens:,} tok")
    if p.seconds > 0:
        parts.append(f"{p.tokens / p.seconds:,.0f} tok/s")
    eta = eta_seconds(p)
    parts.append(f"ETA {clock(eta)}" if eta is not None else "ETA ?")
    return " · ".join(parts)


class ProgressBar:
    """A runtime listener (called with a ``Progress``); draws on stderr when it is a terminal."""

    def __init__(self, enabled: bool | None = None, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._lock = threading.Lock()         # the engine's thread draws; the shell clears
        self._drawn = False
        self._last = 0.0

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        finished = p.rows_total > 0 and p.rows_done >= p.rows_total
        if not finished and now - self._last < 1 / FRAMES_PER_SECOND:
            return
        self._last = now
        done = fraction_done(p)
        filled = int(done * BAR_WIDTH)
        text = (f"LLM {int(done * 100):3d}% ▕{'█' * filled}{' ' * (BAR_WIDTH - filled)}▏ "
                f"{describe(p)}")
        self._write(text)

    def note(self, text: str) -> None:
        """A transient status line (a model loading), replaced by the next frame."""
        if self.enabled:
            self._write(text)

    def _write(self, text: str) -> None:
        width = _columns(self.stream)
        with self._lock:
            self.stream.write("\r\x1b[K" + text[:width - 1])
            self.stream.flush()
            self._drawn = True

    def close(self) -> None:
        """Erase the line, leaving the terminal as it was before the statement."""
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._drawn = False
            self._last = 0.0


class LoadingNotice(logging.Handler):
    """Shows the engine's "loading model" log record as the bar's transient line, so a
    terminal user sees why the first LLM statement waits."""

    def __init__(self, bar: ProgressBar) -> None:
        super().__init__(logging.INFO)
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        self.bar.note(record.getMessage())


def _columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80
