"""Scale-out on a local Ray against one in-process engine, side by side in one run (issue 26).

Start-up: seconds from a fresh process's first line until its engines are ready, the model
loaded, and the CPU seconds it and every process it started spent by then (median of
``--repeat`` processes each; on a busy machine the CPU seconds are the steadier figure):
    one engine in the process          connect(model=M).engine
    N Ray workers, local Ray started   connect(model=M, workers=N).engine   (Ray's start alone too)
Routing by prefix, real: one LLM_FILTER over movie reviews (each movie's fields, then the
review), cold caches, on one engine with ``--kv-mib`` of KV cache and on N workers with 1/N of it
each: prefilled tokens (and their ratio), each worker's share, EXPLAIN's estimated makespan,
and wall seconds (the workers share this machine's cores with nothing else, so the wall ratio
is not a speed-up on a 2-core machine).

Ray binds the machine's interface address, so the script re-runs itself in a new network
namespace where loopback is the only interface (``unshare -n``, as root).

    python bench/ray_bench.py --data ../shared/data                # built-in model, 2 workers
    python bench/ray_bench.py --data ../shared/data --rows 600 --kv-mib 8 --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from common import DEFAULT_DATA, REPO, REVIEW_FILTER, create_review_table, machine

from tests import netns

STARTUP = """
import json, os, sys, time


def tree_cpu():
    # CPU seconds of this process and every process it started (Ray's, the workers)
    tick, me, parent, cpu = os.sysconf("SC_CLK_TCK"), os.getpid(), {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(pid)], cpu[int(pid)] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick

    def mine(pid):
        while pid > 1 and pid != me:
            pid = parent.get(pid, 0)
        return pid == me
    return sum(c for pid, c in cpu.items() if mine(pid))


t0 = time.perf_counter()
import infersql
workers = int(sys.argv[2]) or None
conn = infersql.connect(model=sys.argv[1], workers=workers)
t1 = time.perf_counter()
if workers:
    from executor.scale import cluster
    cluster.join(conn.runtime.models.scale)
t2 = time.perf_counter()
conn.engine
t3 = time.perf_counter()
print(json.dumps({"connect": t1 - t0, "ray_start": t2 - t1, "engines": t3 - t2, "ready": t3 - t0,
                  "cpu": tree_cpu()}))
conn.close()
"""


def startup(model: str, workers: int, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", STARTUP, model, str(workers)],
                              capture_output=True, text=True, cwd=REPO,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def routing(model: str, data: str, rows: int, kv: int, workers: int) -> dict:
    import infersql

    out = {}
    for name, options in (("one engine", {"kv_cache_bytes": kv}),
                          (f"{workers} workers", {"kv_cache_bytes": kv // workers,
                                                  "workers": workers})):
        with infersql.connect(model=model, **options) as conn:
            create_review_table(conn, data, rows)
            conn.engine                                   # loaded before the clock starts
            plan = json.loads(conn.execute("EXPLAIN (FORMAT JSON) " + REVIEW_FILTER).fetchone()[0])
            cur = conn.cursor()
            started = time.perf_counter()
            answer = cur.execute(REVIEW_FILTER).fetchall()
            out[name] = {"seconds": time.perf_counter() - started, "stats": cur.stats,
                         "rows": sorted(answer), "plan": plan["scopes"][0]["operators"][0]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model folder (default: the built-in model)")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder holding movies.csv")
    ap.add_argument("--rows", type=int, default=400, help="review rows for the routing run")
    ap.add_argument("--kv-mib", type=int, default=8, help="one engine's KV cache (MiB)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="start-up processes each")
    args = ap.parse_args()
    if not netns.isolated():
        why = netns.unavailable()
        if why:
            sys.exit(f"Ray must run where loopback is the only interface, and {why}")
        done = netns.run([sys.executable, *sys.argv], timeout=3600,
                         env=netns.environment(PYTHONPATH=str(REPO)))
        print(done.stdout, end="")
        sys.exit(done.returncode)

    import infersql

    model = args.model
    if model is None:
        with infersql.connect() as conn:
            model = conn.runtime.resolve(None)[0]
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start")
    print(f"model {model}; {args.workers} workers; median of {args.repeat} start-ups each\n")
    one, many = startup(model, 0, args.repeat), startup(model, args.workers, args.repeat)
    print(f"{'start-up, seconds to engines ready':<44}{'ready':>8}{'Ray start':>11}"
          f"{'engines':>9}{'CPU s':>8}")
    print(f"{'one engine in the process':<44}{one['ready']:>8.2f}{'-':>11}{one['engines']:>9.2f}"
          f"{one['cpu']:>8.2f}")
    print(f"{f'{args.workers} Ray workers (local Ray started)':<44}{many['ready']:>8.2f}"
          f"{many['ray_start']:>11.2f}{many['engines']:>9.2f}{many['cpu']:>8.2f}")
    print(f"ratio: {many['ready'] / one['ready']:.2f}x wall, {many['cpu'] / one['cpu']:.2f}x CPU "
          f"(CPU s: the process and all it started, Ray's processes and the workers)\n")

    runs = routing(model, args.data, args.rows, args.kv_mib << 20, args.workers)
    (one_name, single), (many_name, pooled) = runs.items()
    assert single["rows"] == pooled["rows"], "the workers returned other rows than one engine"
    s1, s2 = single["stats"], pooled["stats"]
    print(f"routing: {args.rows} review rows, {s1.llm_calls} distinct prompts, "
          f"{s1.prompt_tokens} prompt tokens; KV {args.kv_mib} MiB in all")
    print(f"{'':<12}{'prefilled':>10}{'cached':>9}{'seconds':>9}{'EXPLAIN est.':>14}")
    for name, run in runs.items():
        s = run["stats"]
        print(f"{name:<12}{s.prefilled_tokens:>10}{s.cached_tokens:>9}{run['seconds']:>9.2f}"
              f"{run['plan']['estimate']['seconds']:>14.2f}")
    print(f"prefilled tokens, {many_name} / {one_name}: "
          f"{s2.prefilled_tokens / s1.prefilled_tokens:.3f}x; "
          f"wall {pooled['seconds'] / single['seconds']:.2f}x")
    for worker, figures in sorted(s2.workers.items()):
        print(f"  worker {worker}: requests {figures['requests']}, prefilled "
              f"{figures['prefilled_tokens']}, seconds {figures['seconds']:.2f}")


if __name__ == "__main__":
    main()
