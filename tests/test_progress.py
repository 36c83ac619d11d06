"""The progress line: ETA from the recent token rate and the remaining token budget, cache hits
shown, at most FRAMES_PER_SECOND redraws, erased when the statement ends, silent off a terminal."""
from __future__ import annotations

import io
from dataclasses import dataclass

from infersql.progress_bar import ProgressBar, TokenRate, clock, describe, eta_seconds, fraction_done


@dataclass
class P:
    rows_done: int = 0
    rows_total: int = 0
    cached_rows: int = 0
    tokens: int = 0
    tokens_total: int = 0
    seconds: float = 0.0


def test_eta_from_token_budget_and_rate():
    p = P(rows_done=0, rows_total=300, tokens=1000, tokens_total=11000, seconds=10.0)
    assert eta_seconds(p) == 100.0                      # 10,000 tokens left at 100 tok/s
    assert eta_seconds(p, rate=500.0) == 20.0           # a measured recent rate wins
    assert eta_seconds(P(rows_done=10, rows_total=40, seconds=5.0)) == 15.0    # no budget: rows
    assert eta_seconds(P(rows_total=40)) is None
    assert fraction_done(p) == 1000 / 11000 and fraction_done(P(rows_done=1, rows_total=4)) == 0.25


def test_token_rate_ignores_what_came_before_tokens_flowed():
    rate = TokenRate(window=10)
    rate.add(0.0, 0)
    assert rate.rate() is None
    rate.add(8.0, 100)              # a model load: 8 s for the first 100 tokens
    for t in range(1, 20):
        rate.add(8.0 + t, 100 + 1000 * t)
    assert abs(rate.rate() - 1000) < 1e-9


def test_frame_text_and_drawing():
    out = io.StringIO()
    bar = ProgressBar(enabled=True, stream=out)
    bar(P(rows_done=3, rows_total=10, cached_rows=2, tokens=500, tokens_total=1000, seconds=1.0))
    bar(P(rows_done=4, rows_total=10, cached_rows=2, tokens=600, tokens_total=1000, seconds=1.01))
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 1                  # the second call came too soon
    assert "LLM  50% 3/10 rows" in text                 # 80 columns: no room for the bar
    assert "3/10 rows" in text and "2 cached" in text
    assert "500/1,000 tok" in text and "500 tok/s" in text and "ETA 0:01" in text
    bar(P(rows_done=10, rows_total=10, tokens=1000, tokens_total=1000, seconds=1.02))
    assert "10/10 rows" in out.getvalue()               # the last frame is always drawn
    bar.close()
    assert out.getvalue().endswith("\r\x1b[K")
    assert describe(P(rows_total=5)) == "0/5 rows · 0 tok · ETA ?"
    assert clock(3725) == "1:02:05" and clock(65) == "1:05"


def test_disabled_bar_writes_nothing():
    out = io.StringIO()
    bar = ProgressBar(stream=out)                       # StringIO is no terminal
    bar(P(rows_done=1, rows_total=2, tokens=5, seconds=1.0))
    bar.note("Loading model")
    bar.close()
    assert out.getvalue() == ""


def test_eta_counts_only_the_tokens_still_to_compute(tiny_model):
    """Rows that share a long prefix compute it once: the budget counts it once, so after a
    tenth of the work the ETA is within 2x of the time the statement still takes (it read
    '50% ... 387/400 rows' when cached prefixes were counted as work to come)."""
    import time

    import infersql

    conn = infersql.connect(model=tiny_model, max_batch_tokens=256)    # many small steps
    info = ("A long shared description of the product line, the same for every review of it, "
            "that each prompt repeats before its own short review text. ") * 4
    conn.execute(f"CREATE TABLE r AS SELECT i % 4 AS line, '{info}' || (i % 4) AS info, "
                 "'review number ' || i AS review FROM range(1200) t(i)")
    seen: list[tuple[float, float, float | None]] = []
    rate = TokenRate(window=10)

    def listen(p) -> None:
        now = time.perf_counter()
        rate.add(now, p.tokens)
        seen.append((now, fraction_done(p), eta_seconds(p, rate.rate())))

    conn.engine                                  # loaded: the ETA is about the work, not the load
    conn.runtime.listeners.append(listen)
    conn.execute("SELECT count(*) FROM r WHERE LLM_FILTER('Is it positive?', info, review)").fetchall()
    end = time.perf_counter()
    at, done, eta = next(s for s in seen if s[1] >= 0.10 and s[2] is not None)
    remaining = end - at
    assert done < 0.5 and remaining / 2 <= eta <= remaining * 2, (done, eta, remaining)
    conn.close()
