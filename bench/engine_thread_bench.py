"""The thread inference runs on: a new thread per statement, one long-lived thread, the main thread.

Captures the engine requests of a filter query over shuffled movie reviews, then replays them
statement by statement on a fresh engine, three ways, in turns, several rounds:

- ``new thread``: each statement's inference on a thread of its own, as a cursor runs every
  statement (``infersql/cursor.py``, so that Ctrl-C reaches the main thread);
- ``long-lived thread``: on one worker thread that outlives statements;
- ``main thread``: on the thread that loaded the engine.

Why: EXPLAIN's filter estimate was 0.6-0.7x the actual seconds, and one replay last session
ran 30-45% faster on the main thread than on a new one, which suggested the per-statement
thread (its OpenMP team) as the cause. This measures it side by side.

Prints the median seconds of each way and their ratios. ``--calibrate`` first runs
``infersql calibrate`` in this process, on the main thread, as ``explain_accuracy.py`` does:
where the last session found the statement thread 30-45% slower than the main thread.

    python bench/engine_thread_bench.py --data ../shared/data [--calibrate] [--rows 400]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time

from common import DEFAULT_DATA, REVIEW_FILTER, calibrate_into, create_review_table, machine


def capture(data: str, rows: int, model: str | None, database: str | None) -> tuple[object, list[list]]:
    """(engine config, requests per engine call) of the filter query, answered once."""
    import infersql

    with infersql.connect(database, model=model) as conn:
        create_review_table(conn, data, rows)
        engine = conn.engine
        calls: list[list] = []
        generate = engine.generate

        def recording(reqs, **kw):
            calls.append(list(reqs))
            return generate(reqs, **kw)

        engine.generate = recording
        conn.execute(REVIEW_FILTER).fetchall()
        return engine.config, calls


def replay(config, calls: list[list], statements: int, on) -> float:
    """Seconds to answer ``calls`` ``statements`` times, each time through ``on`` and on an
    engine of its own (loaded before the clock starts), so no statement finds another's
    prefixes cached."""
    from executor.engine import Engine

    engines = [Engine(config) for _ in range(statements)]
    started = time.perf_counter()
    for engine in engines:
        on(lambda: [engine.generate(reqs) for reqs in calls])
    return time.perf_counter() - started


def on_new_thread(fn) -> None:
    t = threading.Thread(target=fn, name="statement")
    t.start()
    t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--model", default=None, help="model folder (default: the built-in model)")
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--statements", type=int, default=3, help="statements per timed replay")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calibrate", action="store_true", help="calibrate in this process first")
    args = ap.parse_args()
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory() as tmp:
        database = None
        if args.calibrate:
            database = os.path.join(tmp, "calibrated.duckdb")
            calibrate_into(database, args.model)
        config, calls = capture(args.data, args.rows, args.model, database)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="long-lived")
    ways = {"new thread": on_new_thread, "long-lived thread": lambda fn: worker.submit(fn).result(),
            "main thread": lambda fn: fn()}
    seconds: dict[str, list[float]] = {w: [] for w in ways}
    for _ in range(args.rounds):
        for way, on in ways.items():
            seconds[way].append(replay(config, calls, args.statements, on))
    print(f"\n{machine()}\n")
    print(f"{sum(len(c) for c in calls)} requests in {len(calls)} engine calls per statement, "
          f"{args.statements} statements per replay, {args.rounds} rounds"
          f"{', calibrated in this process first' if args.calibrate else ''}\n")
    base = statistics.median(seconds["new thread"])
    print("| runs on | median s | each round | vs new thread |\n|---|---:|---|---:|")
    for way, xs in seconds.items():
        m = statistics.median(xs)
        print(f"| {way} | {m:.2f} | {' '.join(f'{x:.2f}' for x in xs)} | {base / m:.2f}x |")


if __name__ == "__main__":
    main()
