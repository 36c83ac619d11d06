"""Scale-out, projected by the simulator: prefix routing against round-robin and table-order
chunks, on N = 1, 2, 8 and 64 workers (issue 26).

Workload: 100,000 rows with the movies query's prefix shape (``synthetic_prompts``: an
instruction, per movie a ~200-token info prefix, per row a review of 60-150 tokens, reviews per
movie log-normal with median 23), in a shuffled table order, one output token per row (an
LLM_FILTER). With ``--data`` the shape is read from movies.csv instead: its prompts
(``common.movie_prompt``) through the built-in model's tokenizer give the instruction length,
each movie's prefix length, each review's length and the reviews per movie.

Every worker is the engine's own scheduler and block manager under the cost model
(``simulate_workers``), with a KV cache of ``--kv-tokens`` tokens. The default, 41,000, keeps
the cache-to-work ratio of the issue's case, a million reviews on 8 GPUs: an 80 GB GPU holds
about 410,000 tokens of an 8B model's KV (128 KiB a token in bf16, ~54 GB after the weights),
and this is a tenth of the rows. Seconds come from the default cost model of ``--model``
(default: a config.json shaped like Llama-3.1-8B, on cuda, bf16, uncalibrated), so read the
ratios, not the seconds.

Lines per N (for N = 1, one engine and that engine in table order):
  one, NxKV       the yardstick: one engine with the N workers' caches together, all rows in
                  trie order (its makespan/ideal is N: it does the work alone)
  prefix          ``routing.route``: contiguous shares of whole subtrees, balanced by cost
  round-robin     row i to worker i mod N, each worker running its rows in table order (what
                  Ray Data does: it deals blocks of rows in table order to engine replicas)
  rr, sorted      the same rows per worker, each worker running them in trie order (the
                  fairest baseline: only which rows meet on a worker differs from prefix)
  chunks          the table cut into N runs of equal row counts, each run in table order
Columns:
  prefill/bound   prefilled tokens / one engine's with the N workers' caches together, all
                  rows in trie order (issue 26: prefix at most 1.05; round-robin at least 2)
  makespan/ideal  the slowest worker's seconds / (that one engine's seconds / N) (at most 1.25)
  balance         slowest / mean worker seconds
  sim s           the simulator's wall seconds for the line (jobs run ``--jobs`` at a time)

    python bench/scale_bench.py                        # ~20 min on 2 cores
    python bench/scale_bench.py --data ../shared/data  # movies.csv's shape
    python bench/scale_bench.py --rows 10000 --workers 2,8
    python bench/scale_bench.py --workers 8 --baseline-eviction lru   # baselines as vLLM evicts
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from common import REPO, load_rows, machine, movie_prompt

from executor.engine.config import EngineConfig
from executor.engine.geometry import bytes_per_block, default_dtype, read_geometry
from executor.engine.routing import neighbour_prefixes
from executor.engine.simulate_workers import simulate_workers, single_engine
from executor.engine.synthetic_prompts import PrefixShape, synthetic_prompts
from executor.prefix_sharing import trie_tokens

# Llama-3.1-8B's shape: what one GPU worker would serve.
LLAMA_8B = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
            "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
            "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 128256,
            "max_position_embeddings": 131072}
LINES = {"prefix": ("prefix", True), "round-robin": ("round_robin", False),
         "rr, sorted": ("round_robin", True), "chunks": ("chunks", False)}


def projected_model() -> str:
    """A folder holding only an 8B-shaped config.json: the simulator reads nothing else."""
    folder = Path(tempfile.gettempdir()) / "infersql-bench-llama-8b-shape"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(LLAMA_8B))
    return str(folder)


def movies_shape(data: str) -> PrefixShape:
    """The prefix shape of movies.csv's prompts, in the built-in model's tokens."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(REPO / "infersql" / "builtin_model" / "model" / "tokenizer.json"))
    rows = load_rows(data, "movies")
    by_movie: dict[str, list[list[int]]] = {}
    for row in rows:
        by_movie.setdefault(row["movietitle"], []).append(tok.encode(movie_prompt(row)).ids)
    everything = sorted(p for ps in by_movie.values() for p in ps)
    instruction = min(neighbour_prefixes(everything)[1:])
    prefixes, suffixes = [], []
    for prompts in by_movie.values():
        shared = min(neighbour_prefixes(sorted(prompts))[1:], default=instruction)
        prefixes.append(shared - instruction)
        suffixes += [len(p) - shared for p in prompts]
    return PrefixShape(instruction=instruction, group_prefix=tuple(prefixes),
                       row_suffix=tuple(suffixes),
                       group_sizes=tuple(Counter(r["movietitle"] for r in rows).values()))


def run_line(job: dict) -> dict:
    """One line of the table, in a process of its own."""
    prompts = synthetic_prompts(job["rows"], job["shape"], job["seed"], job["order"])
    lens = [job["output_tokens"]] * len(prompts)
    config, n = job["config"], job["workers"]
    start = time.perf_counter()
    if job["line"] == "one engine":
        result = simulate_workers(single_engine(config, n), prompts, lens, 1)
    else:
        routing, sort = LINES[job["line"]]
        if routing != "prefix":
            config = replace(config, eviction=job["baseline_eviction"])
        result = simulate_workers(config, prompts, lens, n, routing, sort_shares=sort)
    seconds = [r.seconds for r in result.runs]
    return dict(job, config=None, shape=None, wall=time.perf_counter() - start,
                prefilled=result.prefilled_tokens, makespan=result.makespan,
                balance=max(seconds) / (sum(seconds) / len(seconds)))


def jobs_of(args, config: EngineConfig, shape: PrefixShape) -> list[dict]:
    base = dict(rows=args.rows, shape=shape, seed=args.seed, order=args.order,
                output_tokens=args.output_tokens, config=config,
                baseline_eviction=args.baseline_eviction or config.eviction)
    jobs = []
    for n in args.workers:
        lines = ["one engine"] + (["round-robin"] if n == 1 else list(LINES))
        jobs += [dict(base, workers=n, line=line) for line in lines]
    return jobs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--workers", default="1,2,8,64", help="worker counts, comma-separated")
    ap.add_argument("--kv-tokens", type=int, default=41_000, help="each worker's KV cache")
    ap.add_argument("--data", help="a folder holding movies.csv: take its prefix shape")
    ap.add_argument("--order", choices=["shuffled", "clustered"], default="shuffled",
                    help="table order: movies' rows scattered, or together as in movies.csv")
    ap.add_argument("--output-tokens", type=int, default=1)
    ap.add_argument("--model", help="a folder with a config.json (default: Llama-3.1-8B's shape)")
    ap.add_argument("--device", default="cuda", help="the cost model's device")
    ap.add_argument("--batch-tokens", type=int, default=2048)
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="simulations at once")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline-eviction", choices=["belady", "lru"],
                    help="the dealing baselines' eviction (default: the workers' own, belady, "
                         "which knows each worker's future; lru is what an engine behind a "
                         "router that guesses, vLLM's prefix cache, does)")
    args = ap.parse_args()
    args.workers = [int(n) for n in args.workers.split(",")]

    model = args.model or projected_model()
    dtype = default_dtype(args.device)
    block = bytes_per_block(read_geometry(model), 16, dtype)
    config = EngineConfig(model=model, device=args.device, max_batch_tokens=args.batch_tokens,
                          kv_cache_bytes=args.kv_tokens // 16 * block)
    shape = movies_shape(args.data) if args.data else PrefixShape()
    prompts = synthetic_prompts(args.rows, shape, args.seed, args.order)
    total, trie = sum(map(len, prompts)), trie_tokens(prompts)
    print(f"machine: {machine()}")
    print(f"workload: {args.rows:,} rows, {'movies.csv' if args.data else 'synthetic'} shape, "
          f"{args.order} table, {total / len(prompts):.0f} prompt tokens a row, "
          f"prefix trie {trie / total:.1%} of the prompt tokens, {args.output_tokens} output "
          f"token(s) a row")
    print(f"worker: {Path(model).name}, {args.device} {dtype} (uncalibrated cost model), "
          f"KV {args.kv_tokens:,} tokens, max_batch_tokens {args.batch_tokens}, "
          f"eviction {config.eviction} (baselines: {args.baseline_eviction or config.eviction})")
    del prompts

    jobs = jobs_of(args, config, shape)
    started = time.perf_counter()
    done = []
    with multiprocessing.get_context("fork").Pool(max(1, args.jobs)) as pool:
        ordered = sorted(jobs, key=lambda j: j["line"] == "one engine", reverse=True)
        for d in pool.imap_unordered(run_line, ordered):
            done.append(d)
            print(f"  done {len(done)}/{len(jobs)}: N={d['workers']} {d['line']} "
                  f"({d['wall']:.0f} s)", file=sys.stderr, flush=True)
    bound = {d["workers"]: d for d in done if d["line"] == "one engine"}
    print(f"\n{'N':>3} {'routing':<12} {'prefill/bound':>13} {'makespan/ideal':>14} "
          f"{'balance':>8} {'sim s':>7}")
    for d in sorted(done, key=lambda d: (d["workers"], list(LINES).index(d["line"])
                                         if d["line"] in LINES else -1)):
        one = bound[d["workers"]]
        line = d["line"] if d["line"] != "one engine" else (
            "prefix = one" if d["workers"] == 1 else f"one, {d['workers']}xKV")
        print(f"{d['workers']:>3} {line:<12} {d['prefilled'] / one['prefilled']:>13.3f} "
              f"{d['makespan'] / (one['makespan'] / d['workers']):>14.3f} "
              f"{d['balance']:>8.3f} {d['wall']:>7.1f}")
    print("\none engine with N workers' caches: "
          + ", ".join(f"N={n}: {bound[n]['prefilled'] / trie:.3f}x the trie tokens, "
                      f"{bound[n]['makespan']:.0f} s" for n in args.workers))
    print(f"wall: {time.perf_counter() - started:.0f} s with {args.jobs} simulations at once")


if __name__ == "__main__":
    main()
