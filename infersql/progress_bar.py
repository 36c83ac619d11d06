"""A one-line progress display for a statement's LLM work, on a terminal only.

It counts tokens as well as rows, because with long generations rows finish in bursts near
the end while tokens flow every engine iteration; so the bar moves whenever the engine does.
The ETA comes from the recent token rate and the statement's remaining token budget
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
from collections import deque

FRAMES_PER_SECOND = 10
BAR_WIDTH = 20


def eta_seconds(p, rate: float | None = None) -> float | None:
    """Seconds left: remaining token budget over the token rate (``rate``, or the average
    since the statement began), else by rows."""
    total = getattr(p, "tokens_total", 0) or 0
    if rate is None and p.tokens > 0 and p.seconds > 0:
        rate = p.tokens / p.seconds
    if total > 0 and rate:
        return max(total - p.tokens, 0) / rate
    if p.rows_done > 0 and p.rows_total > 0 and p.seconds > 0:
        return p.seconds * (p.rows_total - p.rows_done) / p.rows_done
    return None


class TokenRate:
    """Tokens per second over the last ``window`` seconds of reports. The average since the
    statement began would count the model load and the first batch's slow kernels, which are
    over once tokens flow: a one-time load of seconds made a 10 s statement's ETA read 94 s."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, tokens: int) -> None:
        self._samples.append((now, tokens))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window:
            self._samples.popleft()

    def rate(self) -> float | None:
        """None until two reports show tokens moving. Reports come once per engine step, so
        two of them already span a step of real work; waiting longer (it waited 0.2 s) left a
        fast statement's early ETA to the average since it began, model load included."""
        if len(self._samples) < 2:
            return None
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 and n1 > n0 else None

    def clear(self) -> None:
        self._samples.clear()


def fraction_done(p) -> float:
    total = getattr(p, "tokens_total", 0) or 0
    if total > 0:
        return min(p.tokens / total, 1.0)
    return p.rows_done / p.rows_total if p.rows_total else 0.0


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def describe(p, rate: float | None = None) -> str:
    """The text of one frame, without the bar: rows, cache hits, tokens, rate, ETA."""
    parts = [f"{p.rows_done}/{p.rows_total} rows"]
    if p.cached_rows:
        parts.append(f"{p.cached_rows} cached")
    total = getattr(p, "tokens_total", 0) or 0
    parts.append(f"{p.tokens:,}/{total:,} tok" if total else f"{p.tokens:,} tok")
    if rate is None and p.seconds > 0:
        rate = p.tokens / p.seconds
    if rate is not None:
        parts.append(f"{rate:,.0f} tok/s")
    eta = eta_seconds(p, rate)
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
        self._rate = TokenRate()

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        self._rate.add(now, p.tokens)
        finished = p.rows_total > 0 and p.rows_done >= p.rows_total
        if not finished and now - self._last < 1 / FRAMES_PER_SECOND:
            return
        self._last = now
        done = fraction_done(p)
        filled = int(done * BAR_WIDTH)
        info = describe(p, self._rate.rate())
        text = f"LLM {int(done * 100):3d}% ▕{'█' * filled}{' ' * (BAR_WIDTH - filled)}▏ {info}"
        if len(text) >= _columns(self.stream):          # a narrow terminal: numbers first
            text = f"LLM {int(done * 100):3d}% {info}"
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
            self._rate.clear()


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
