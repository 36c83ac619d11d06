"""Whole queries against their peers, side by side in one run: what the optimizer buys.

Workload (``query_workloads.py``): the LLM-SQL paper's query types (filter, projection,
multi-LLM, aggregation over LLM_CLASSIFY) on movies, products and beer, tables loaded with their
rows in a shuffled order, each prompt with the entity's shared fields before the per-row ones.
Systems, each timed over ``execute`` + ``fetchall`` in a FRESH database (so the result cache
never answers a timed run), after its model is loaded and warmed up:
  ours  ``infersql.connect(db, model=PATH, kv_cache_bytes=B)``, planning on;
  (b)   the same with ``optimize=False``: lazy per-chunk UDFs, rows in table order;
  (a)   plain DuckDB with an arrow UDF per call, HF ``generate`` in left-padded batches of 16
        (``hf_udf_peer.py``: the same prompt text, the same constrained answers);
  (c)   vLLM CPU with prefix caching over the prompts (a) evaluated, in table order, stage by
        stage (``vllm_peer.py``, in its own venv); a filter or classify gets max_tokens=1.
Each runs at two KV budgets: *small* holds about half of the KV of the distinct shared prefixes
of the table's queries (so in table order LRU evicts a prefix before its next use), *ample*
holds everything. (a) keeps no KV across batches, so it runs once. The script checks that
ours, (b) and (a) return the same rows, and prints speed ratios and prefix hit rates: table
order (each prompt against the previous one), measured for (b), ours and (c)
(cached / prompt tokens), and the upper bound where every distinct prefix is computed once.

    python bench/query_bench.py                  # 23 min on 2 cores at load 3-4 (vLLM starts: 4 min)
    python bench/query_bench.py --quick --skip-vllm
"""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field

import duckdb

from common import DEFAULT_DATA, machine, model_label, model_path, peer_folder, run_vllm_peer
from hf_udf_peer import HFUdfPeer, Stage
from prefix_stats import PrefixStats, prefix_stats
from query_workloads import QUERIES, Query, load_tables, write_tables

DEFAULT_ROWS = {"movies": 128, "products": 64, "beer": 192}
QUICK_ROWS = {"movies": 32, "products": 16, "beer": 48}
VLLM_BLOCK = 32
ENGINE_BLOCK = 16
log = logging.getLogger("query_bench")
STAT_FIELDS = ("llm_calls", "cache_hits", "prompt_tokens", "cached_tokens", "prefilled_tokens",
               "decoded_tokens", "evicted_blocks",
               "evictions", "preemptions", "lazy_evaluations")


@dataclass
class Run:
    seconds: float
    rows: list | None = None
    stats: dict = field(default_factory=dict)

    def hit_rate(self) -> float | None:
        prompt = self.stats.get("prompt_tokens")
        return self.stats.get("cached_tokens", 0) / prompt if prompt else None


@dataclass
class QueryResult:
    query: Query
    naive: Run                                   # (a)
    stages: list[Stage]
    stage_ids: list[list[list[int]]]             # token ids of each stage's prompts
    prefix: PrefixStats                          # over the distinct prompts, table order
    runs: dict[tuple[str, str], Run] = field(default_factory=dict)   # (budget, system)


def _stats_dict(stats) -> dict:
    """``cursor.stats`` (a dataclass or a dict) or EngineStats, as a plain dict."""
    if stats is None:
        return {}
    if isinstance(stats, dict):
        return dict(stats)
    if hasattr(stats, "as_dict"):
        return stats.as_dict()
    return {f: getattr(stats, f) for f in STAT_FIELDS if hasattr(stats, f)}


def run_infersql(path: str, paths: dict[str, str], q: Query, kv_bytes: int, optimize: bool,
                 batch_tokens: int, dtype: str, compile: bool = False) -> Run:
    """One timed run in a fresh in-memory database: the result cache starts empty."""
    import infersql
    from executor.engine import Request

    conn = infersql.connect(":memory:", model=path, optimize=optimize, kv_cache_bytes=kv_bytes,
                            max_batch_tokens=batch_tokens, dtype=dtype, compile=compile)
    try:
        load_tables(conn, {q.table: paths[q.table]})
        engine = conn.engine                    # loads the model: not timed
        engine.generate([Request(prompt_ids=[11, 12, 13] * 9, max_tokens=2)])
        engine.reset_stats()
        cur = conn.cursor()
        start = time.perf_counter()
        cur.execute(q.sql)
        rows = cur.fetchall()
        seconds = time.perf_counter() - start
        stats = _stats_dict(getattr(cur, "stats", None))
        if not stats:                           # before cursor.stats: the engine's counters
            stats = _stats_dict(engine.stats)
        stats["engine_seconds"] = engine.stats.wall_seconds   # the rest is the SQL path's
        return Run(seconds, rows, stats)
    finally:
        conn.close()


def run_naive(peer: HFUdfPeer, paths: dict[str, str], q: Query) -> tuple[Run, list[Stage]]:
    con = duckdb.connect()
    load_tables(con, {q.table: paths[q.table]})
    peer.stages = []
    start = time.perf_counter()
    rows = peer.execute(con, q.sql)
    seconds = time.perf_counter() - start
    con.close()
    return Run(seconds, rows), peer.stages


def vllm_jobs(results: list[QueryResult]) -> list[dict]:
    """The LLM work (a) did, stage by stage, as vLLM jobs: a filter/classify decodes 1 token."""
    jobs = []
    for r in results:
        stages = [{"prompts": ids,
                   "max_tokens": 1 if st.call.choices is not None else st.call.max_tokens,
                   "ignore_eos": False} for st, ids in zip(r.stages, r.stage_ids) if ids]
        jobs.append({"name": r.query.name, "stages": stages})
    return jobs


def run_vllm(args, path: str, results: list[QueryResult], kv_bytes: int, bpt: int,
             label: str, notes: list[str]) -> None:
    blocks = kv_bytes // (VLLM_BLOCK * bpt)
    job = {"model": path, "dtype": args.dtype, "max_batch_tokens": args.batch_tokens,
           "block_size": VLLM_BLOCK, "num_blocks": blocks,
           "max_model_len": min(2048, (blocks - 1) * VLLM_BLOCK),    # vLLM keeps a null block
           "jobs": vllm_jobs(results)}
    start = time.perf_counter()
    try:
        out = run_vllm_peer(args.vllm_python, job, kv_cache_gib=max(1, -(-kv_bytes >> 30)))
    except RuntimeError as exc:
        notes.append(f"(c) vLLM at the {label} budget failed: {exc}")
        return
    notes.append(f"(c) vLLM at the {label} budget: {out['num_blocks']} blocks of "
                 f"{out['block_size']}, process {time.perf_counter() - start:.0f} s in all")
    for r, j in zip(results, out["jobs"]):
        r.runs[(label, "c")] = Run(j["seconds"], None, {"prompt_tokens": j["prompt_tokens"],
                                                        "cached_tokens": j["cached_tokens"]})


def small_budgets(results: list[QueryResult], bpt: int) -> dict[str, int]:
    """Per table, in bytes: half the KV of the largest distinct-shared-prefix set among the
    table's queries, at least twice the longest prompt (room for the requests in flight),
    in whole blocks of both systems."""
    tokens: dict[str, int] = {}
    for r in results:
        need = max(r.prefix.shared_tokens // 2, 2 * r.prefix.longest + 64)
        tokens[r.query.table] = max(tokens.get(r.query.table, 0), need)
    unit = max(VLLM_BLOCK, ENGINE_BLOCK)
    return {t: -(-n // unit) * unit * bpt for t, n in tokens.items()}


def _same(a, b) -> bool:
    return a is not None and b is not None and sorted(map(repr, a)) == sorted(map(repr, b))


def _ratio(slow: Run | None, fast: Run | None) -> str:
    return f"{slow.seconds / fast.seconds:.2f}x" if slow and fast else "–"


def _secs(run: Run | None) -> str:
    return f"{run.seconds:.2f}" if run else "–"


def _pct(x: float | None) -> str:
    return f"{100 * x:.0f}%" if x is not None else "–"


def report(results: list[QueryResult], budgets: dict[str, dict[str, int]], bpt: int) -> None:
    for label in budgets:
        print(f"\n#### {label} KV budget\n")
        print("| query | type | KV budget (tokens) | ours s | (b) s | (a) s | (c) s | "
              "ours vs (a) | ours vs (b) | ours vs (c) | rows equal (b), (a) |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in results:
            ours, b, c = (r.runs.get((label, s)) for s in ("ours", "b", "c"))
            tokens = budgets[label][r.query.table] // bpt
            same = ", ".join("yes" if _same(ours and ours.rows, x.rows) else "NO"
                             for x in (b, r.naive) if x)
            print(f"| {r.query.name} | {r.query.kind} | {tokens} | {_secs(ours)} | {_secs(b)} | "
                  f"{_secs(r.naive)} | {_secs(c)} | {_ratio(r.naive, ours)} | {_ratio(b, ours)} | "
                  f"{_ratio(c, ours)} | {same} |")
    print("\n#### Prefix hit rates and tokens\n")
    print("| query | distinct prompts | prompt tokens | shared-prefix tokens | table order | "
          + " | ".join(f"(b) {l} | ours {l} | (c) {l}" for l in budgets)
          + " | upper bound | ours prefilled / bound (" + ", ".join(budgets) + ") |")
    print("|---|---:|---:|---:|---:|" + "---:|" * (3 * len(budgets)) + "---:|---:|")
    for r in results:
        cells = []
        for label in budgets:
            cells += [_pct(r.runs[(label, s)].hit_rate()) if (label, s) in r.runs else "–"
                      for s in ("b", "ours", "c")]
        over = []
        for label in budgets:
            ours = r.runs.get((label, "ours"))
            pre = ours.stats.get("prefilled_tokens") if ours else None
            over.append(f"{pre / r.prefix.trie_tokens:.2f}" if pre is not None else "–")
        p = r.prefix
        print(f"| {r.query.name} | {p.prompts} | {p.total_tokens} | {p.shared_tokens} | "
              f"{_pct(p.table_order)} | " + " | ".join(cells) + f" | {_pct(p.upper_bound)} | "
              + ", ".join(over) + " |")
    print("\nratios: the peer's seconds / ours. Hit rate: cached / prompt tokens as each system "
          "counted them; table order and the upper bound are computed from the token ids of the "
          "distinct prompts (a) evaluated, in table order. 'prefilled / bound': ours' prefilled "
          "tokens over the distinct trie tokens (1.00 = every distinct prefix computed once).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder with movies.csv etc.")
    ap.add_argument("--quick", action="store_true", help="few rows: a smoke run")
    ap.add_argument("--rows", type=int, help="rows per table (default: %s)" % DEFAULT_ROWS)
    ap.add_argument("--queries", help="comma-separated query names (default: all)")
    ap.add_argument("--seed", type=int, default=0, help="row sample and shuffle")
    ap.add_argument("--size", default="medium", choices=["tiny", "small", "medium"])
    ap.add_argument("--model", help="an existing HF model folder or GGUF file instead of a "
                    "random one")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--compile", action="store_true",
                    help="ours and (b) with compile=True (norms and MLPs fused by torch.compile)")
    ap.add_argument("--batch-tokens", type=int, default=2048,
                    help="per-iteration token budget of the engine and vLLM")
    ap.add_argument("--ample-mib", type=int, default=1024, help="the ample KV budget")
    ap.add_argument("--vllm-python", default="/work/vllm-venv/bin/python")
    ap.add_argument("--vllm-small-tables", default="movies",
                    help="tables whose queries vLLM also runs at the small budget: one vLLM "
                         "start (~30-150 s here) per table; 'all' or 'none'")
    ap.add_argument("--skip-vllm", action="store_true")
    args = ap.parse_args()
    logging.getLogger("transformers").setLevel(logging.ERROR)

    queries = QUERIES
    if args.queries:
        wanted = args.queries.split(",")
        queries = [q for q in QUERIES if q.name in wanted]
        if len(queries) != len(wanted):
            sys.exit(f"unknown query in {wanted}; known: {[q.name for q in QUERIES]}")
    tables = sorted({q.table for q in queries})
    rows = {t: args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)[t] for t in tables}

    path = model_path(args.model, args.size)
    from executor.engine.geometry import read_geometry
    from executor.engine.requests_prep import encode_prompt

    bpt = read_geometry(path).kv_bytes_per_token(args.dtype)
    load_before = os.getloadavg()[0]
    notes = [f"{datetime.date.today()}, {machine()}",
             f"command: `{' '.join(['python bench/query_bench.py', *sys.argv[1:]])}`",
             f"model: {model_label(args.model, args.size)} ({args.dtype}"
             f"{', compiled' if args.compile else ''}, "
             f"{bpt} KV bytes per token) | rows per table: {rows} (shuffled, seed {args.seed}) | "
             f"token budget per iteration: {args.batch_tokens} | ample KV: {args.ample_mib} MiB"]
    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="query-bench-")
    paths = write_tables(args.data, rows, args.seed, tmp)

    peer = HFUdfPeer(peer_folder(path), args.dtype)
    peer.warm_up()
    results: list[QueryResult] = []
    for q in queries:
        naive, stages = run_naive(peer, paths, q)
        stage_ids = [[encode_prompt(peer.tokenizer, p, chat=True) for p in st.prompts]
                     for st in stages]
        distinct = dict.fromkeys(tuple(ids) for ids_list in stage_ids for ids in ids_list)
        results.append(QueryResult(q, naive, stages, stage_ids,
                                   prefix_stats([list(t) for t in distinct])))
        log.info("(a) %s: %.2f s", q.name, naive.seconds)

    budgets = {"small": small_budgets(results, bpt),
               "ample": {t: args.ample_mib << 20 for t in tables}}
    for label, by_table in budgets.items():
        for r in results:
            for system, optimize in (("b", False), ("ours", True)):
                r.runs[(label, system)] = run_infersql(
                    path, paths, r.query, by_table[r.query.table], optimize, args.batch_tokens,
                    args.dtype, args.compile)
                log.info("%s %s %s: %.2f s", label, system, r.query.name,
                             r.runs[(label, system)].seconds)

    if args.skip_vllm:
        notes.append("(c) vLLM skipped (--skip-vllm)")
    elif not os.path.exists(args.vllm_python):
        notes.append(f"(c) vLLM skipped: no python at {args.vllm_python} "
                     "(see bench/BENCHMARKS.md for its venv)")
    else:
        small_tables = {"all": tables, "none": []}.get(args.vllm_small_tables,
                                                       args.vllm_small_tables.split(","))
        for t in tables:
            if t in small_tables:
                run_vllm(args, peer.path, [r for r in results if r.query.table == t],
                         budgets["small"][t], bpt, "small", notes)
        run_vllm(args, peer.path, results, args.ample_mib << 20, bpt, "ample", notes)

    for r in results:
        for system in ("ours", "b"):
            run = r.runs[("small", system)]
            notes.append(f"{r.query.name}, {system} at the small budget: " + ", ".join(
                f"{k} {run.stats[k]}" for k in STAT_FIELDS if k in run.stats)
                + f"; in engine.generate {run.stats['engine_seconds']:.2f} s of {run.seconds:.2f} s")
    notes.append(f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}; "
                 f"whole run {time.perf_counter() - started:.0f} s")
    print("\n".join(f"- {n}" for n in notes))
    report(results, budgets, bpt)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    log.setLevel(logging.INFO)
    main()
