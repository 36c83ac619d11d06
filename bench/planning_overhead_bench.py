"""What planning costs: every query run planned and unplanned, side by side (issue 24).

Workloads:
  pairs   one movie's 256 reviews of ~150 characters, self-joined into 32,640 pairs, an
          LLM_FILTER on each pair, LIMIT 10 (``tests/optimizer_fixture.py``), on the built-in
          model unless ``--pair-model``;
  suite   every query of the equivalence tests (tests/test_optimizer_equivalence.py and
          tests/test_sql_equivalence.py) on their fixtures, on the tests' tiny random Qwen2;
  query   bench/query_bench.py's queries on its tables (``--data``; a random Qwen2 of ``--size``).
Each run is ``execute`` + ``fetchall`` in a FRESH in-memory database (the result cache never
answers a timed run), after the model is loaded and warmed up. Planned is ``connect()``,
unplanned ``connect(optimize=False)`` (every call lazy, DuckDB's chunks in table order).

Printed per query, the issue's two bounds as ratios (at most 1.00 passes):
  never slower   planned / (1.1 x unplanned + 0.5 s)
  overhead       planned / (1.2 x its inference + 0.5 s)      (the pair join)
and, for the pair join, EXPLAIN ANALYZE's four parts against the statement's wall time.

    python bench/planning_overhead_bench.py                       # ~10 min on 2 busy cores
    python bench/planning_overhead_bench.py --workloads pairs --repeat 5
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from common import DEFAULT_DATA, REPO, machine, model_path

sys.path.insert(0, str(REPO))

import infersql                                                   # noqa: E402
from tests import naive_udf, test_optimizer_equivalence, test_sql_equivalence   # noqa: E402
from tests.optimizer_fixture import fixture_sql, pair_join_sql, pair_reviews_sql   # noqa: E402

log = logging.getLogger("planning_overhead_bench")


@dataclass
class Timed:
    seconds: float          # execute + fetchall
    inference: float        # the engine's part (cursor.stats.seconds)
    rows: list


def timed(model: str, setup: Callable, sql: str, optimize: bool) -> Timed:
    """One run of ``sql`` in a fresh in-memory database that ``setup(conn)`` fills."""
    from executor.engine import Request

    conn = infersql.connect(":memory:", model=model, optimize=optimize)
    try:
        setup(conn)
        conn.engine.generate([Request(prompt_ids=[11, 12, 13] * 9, max_tokens=2)])   # warm
        cur = conn.cursor()
        start = time.perf_counter()
        rows = cur.execute(sql).fetchall()
        seconds = time.perf_counter() - start
        return Timed(seconds, cur.stats.seconds if cur.stats else 0.0, rows)
    finally:
        release(conn)


def release(conn) -> None:
    """Close ``conn`` and free its engine now: a closed connection's engine is kept by a
    reference cycle until the garbage collector's next full pass, and a hundred fresh
    databases' KV caches (256 MiB each, written to) ran the machine out of memory."""
    conn.close()
    gc.collect()


def explained(model: str, setup: Callable, sql: str) -> tuple[float, dict]:
    """EXPLAIN ANALYZE of ``sql`` in a fresh database: its wall time and its time parts."""
    conn = infersql.connect(":memory:", model=model)
    try:
        setup(conn)
        conn.engine
        start = time.perf_counter()
        doc = json.loads(conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).fetchone()[0])
        return time.perf_counter() - start, doc["time_seconds"]
    finally:
        release(conn)


def never_slower(planned: float, unplanned: float) -> float:
    return planned / (1.1 * unplanned + 0.5)


def pair_join(args) -> None:
    model = args.pair_model or None
    setup = lambda conn: conn.execute(pair_reviews_sql())      # noqa: E731
    sql = pair_join_sql()
    print(f"\n#### Pair self-join, LIMIT 10: 256 texts, 32,640 pairs "
          f"(model: {model or 'built-in'}; median of {args.repeat} runs each)\n")
    planned, unplanned = [], []
    for _ in range(args.repeat):            # alternated, so a busy spell hits both
        planned.append(timed(model, setup, sql, True))
        unplanned.append(timed(model, setup, sql, False))
    p = statistics.median(t.seconds for t in planned)
    inference = statistics.median(t.inference for t in planned)
    u = statistics.median(t.seconds for t in unplanned)
    print("| planned s | its inference s | unplanned s | planned / unplanned | "
          "planned / (1.1 x unplanned + 0.5) | planned / (1.2 x inference + 0.5) |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {p:.2f} | {inference:.2f} | {u:.2f} | {p / u:.2f} | {never_slower(p, u):.2f} | "
          f"{p / (1.2 * inference + 0.5):.2f} |")
    print(f"\nplanned runs: {', '.join(f'{t.seconds:.2f}' for t in planned)} s; "
          f"unplanned: {', '.join(f'{t.seconds:.2f}' for t in unplanned)} s")
    print("\nEXPLAIN ANALYZE, fresh database each:\n")
    print("| wall s | parts' sum s | sum / wall | planning (requests) | driver queries | "
          "inference | final pass |")
    print("|---:|---:|---:|---|---:|---:|---:|")
    for _ in range(args.repeat):
        wall, t = explained(model, setup, sql)
        print(f"| {wall:.3f} | {t['total']:.3f} | {t['total'] / wall:.3f} | {t['planning']:.3f} "
              f"({t['requests']:.3f}) | {t['driver_queries']:.3f} | {t['inference']:.3f} | "
              f"{t['final_pass']:.3f} |")


def compare(title: str, model: str, cases: list[tuple[str, Callable, str]], repeat: int) -> None:
    """Planned against unplanned for each (name, setup, sql), the median of ``repeat`` runs
    each, alternated; answers must agree where the query's rows are fixed (ORDER BY over the
    whole result)."""
    print(f"\n#### {title} (median of {repeat} runs each)\n")
    print("| query | planned s | unplanned s | planned / unplanned | "
          "planned / (1.1 x unplanned + 0.5) | same rows |")
    print("|---|---:|---:|---:|---:|---|")
    worst = 0.0
    for optimize in (True, False):          # imports and first-use costs, untimed
        timed(model, cases[0][1], cases[0][2], optimize)
    for name, setup, sql in cases:
        runs = [(timed(model, setup, sql, True), timed(model, setup, sql, False))
                for _ in range(repeat)]
        p = statistics.median(r[0].seconds for r in runs)
        u = statistics.median(r[1].seconds for r in runs)
        worst = max(worst, never_slower(p, u))
        planned_rows, unplanned_rows = runs[0][0].rows, runs[0][1].rows
        same = ("any rows (LIMIT without ORDER BY)" if " ORDER BY " not in sql.upper()
                and " LIMIT " in sql.upper() else
                "yes" if sorted(map(repr, planned_rows)) == sorted(map(repr, unplanned_rows))
                else "NO")
        print(f"| {name} | {p:.2f} | {u:.2f} | {p / u:.2f} | {never_slower(p, u):.2f} | {same} |")
    print(f"\nworst planned / (1.1 x unplanned + 0.5): {worst:.2f}")


def suite_cases() -> list[tuple[str, Callable, str]]:
    optimizer_setup = lambda conn: conn.execute(fixture_sql())          # noqa: E731
    sql_setup = lambda conn: conn.execute(naive_udf.FIXTURE_SQL)        # noqa: E731
    return ([(f"opt/{k}", optimizer_setup, v) for k, v in test_optimizer_equivalence.CASES.items()]
            + [(f"sql/{k}", sql_setup, v) for k, v in test_sql_equivalence.CASES.items()]
            + [("pairs LIMIT 10", lambda conn: conn.execute(pair_reviews_sql()), pair_join_sql())])


def query_cases(args) -> list[tuple[str, Callable, str]]:
    from query_bench import QUICK_ROWS
    from query_workloads import QUERIES, load_tables, write_tables

    rows = {t: args.rows or QUICK_ROWS[t] for t in {q.table for q in QUERIES}}
    paths = write_tables(args.data, rows, 0, tempfile.mkdtemp(prefix="planning-bench-"))
    return [(q.name, lambda conn, t=q.table: load_tables(conn, {t: paths[t]}), q.sql)
            for q in QUERIES]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="pairs,suite,query", help="comma-separated")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each query, planned and not")
    ap.add_argument("--pair-model", help="model folder for the pair join (default: built-in)")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder with movies.csv etc.")
    ap.add_argument("--rows", type=int, help="query_bench rows per table (default: its --quick)")
    ap.add_argument("--size", default="small", choices=["tiny", "small", "medium"],
                    help="random Qwen2 for query_bench's queries")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    wanted = args.workloads.split(",")
    print(f"### {datetime.date.today()}: {machine()}, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if "pairs" in wanted:
        pair_join(args)
    if "suite" in wanted:
        compare("Equivalence suites' queries (tiny random Qwen2)", model_path(None, "tiny"),
                suite_cases(), args.repeat)
    if "query" in wanted:
        if not os.path.isdir(args.data):
            print(f"\n(query_bench's queries skipped: no data at {args.data})")
        else:
            compare(f"query_bench's queries (random Qwen2 {args.size}, rows "
                    f"{args.rows or 'as --quick'})", model_path(None, args.size), query_cases(args),
                    args.repeat)
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
