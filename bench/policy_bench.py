"""Eviction x preemption policies, real engine and simulator, against the offline optimum.

Workloads (prompt token ids; each row decodes exactly its output length, EOS ignored):
  movies     sampled rows of movies.csv under one instruction (``common.movie_prompt``), in a
             shuffled order (as a plan without prefix-aware ordering submits them): reviews of
             one movie share ~400 tokens of movie fields, far apart in the order;
  synthetic  mixed lengths with shared prefixes: prefix groups of 40-400 tokens, suffixes of
             8-200, outputs of 1-32 tokens, random order.
KV budgets are fractions of the working set: the KV of every distinct prompt token (distinct
full blocks plus partial tails). For every eviction x preemption pair it reports prompt tokens
prefilled, tokens *recomputed* (prefilled beyond the working set: every distinct token must be
computed once, the rest is cache misses and preemption recomputes), the engine's own
preemption-recompute count, preemptions, swaps and makespan, real and simulated side by side.
Beside them: the offline optimum for eviction, Belady's MIN over the same order with one
request at a time (its own code below, not the engine's), which is the floor for prefills.
Then the same comparison in the simulator alone at 10,000+ requests, and PNG plots.

Clock: ``--clock cpu`` (default) runs torch on one thread and measures process CPU seconds,
both for calibration and for real makespans, because this machine is shared and wall times
swing by 2x and more; ``--clock wall`` uses wall time at torch's default threads.

    python bench/policy_bench.py --data ../shared/data
"""
from __future__ import annotations

import argparse
import bisect
import datetime
import heapq
import logging
import random
import sys
import time

from common import DEFAULT_DATA, REPO, load_rows, machine, model_path, movie_prompt, sample_rows

from executor.engine.prefix_keys import common_prefix

EVICTIONS = ("lru", "lfu", "belady")
PREEMPTIONS = ("newest", "srf", "cost")
BLOCK = 16


# ---- workloads -------------------------------------------------------------------------------
def movies_workload(tok, rows: list[dict], n: int, max_tokens: int, seed: int):
    chosen = sample_rows(rows, n, seed) if n <= len(rows) else [
        random.Random(seed).choice(rows) for _ in range(n)]
    prompts = [tok(movie_prompt(r)).input_ids for r in chosen]
    random.Random(seed).shuffle(prompts)
    return prompts, [max_tokens] * len(prompts)


def many_instruction_movies(tok, rows: list[dict], n: int, max_tokens: int, seed: int):
    """``n`` requests from movies.csv for the simulator: every row under several instructions
    (each instruction a prefix of its own), shuffled."""
    asks = ["Does the critic recommend the movie?", "Is the review about the acting?",
            "Does the review mention the music?", "Is the critic angry?",
            "Does the review spoil the plot?", "Is the review sarcastic?",
            "Would a child enjoy this movie?", "Does the review compare it to another film?",
            "Is the review longer than a paragraph?", "Does the critic mention the director?"]
    base = [tok(movie_prompt(r)).input_ids for r in rows]
    head = len(tok("Does the critic recommend the movie? Answer yes or no.\n").input_ids)
    prompts = []
    for i in range(n):
        ask = tok(asks[(i // len(base)) % len(asks)] + " Answer yes or no.\n").input_ids
        prompts.append(ask + base[i % len(base)][head:])
    random.Random(seed).shuffle(prompts)
    return prompts, [max_tokens] * n


def synthetic_workload(n: int, seed: int, vocab: int = 500, groups: int = 24):
    rng = random.Random(seed)
    prefixes = [[rng.randrange(1, vocab) for _ in range(rng.randint(40, 400))] for _ in range(groups)]
    prompts = [rng.choice(prefixes) + [rng.randrange(1, vocab) for _ in range(rng.randint(8, 200))]
               for _ in range(n)]
    return prompts, [rng.randint(1, 32) for _ in prompts]


# ---- the offline optimum, independent of the engine ----------------------------------------
def working_set_blocks(prompts: list[list[int]]) -> int:
    """KV blocks of every distinct prompt token: distinct full blocks plus distinct tails."""
    seen = set()
    for p in prompts:
        h = 0
        for i in range(-(-len(p) // BLOCK)):
            h = hash((h, tuple(p[i * BLOCK:(i + 1) * BLOCK])))
            seen.add(h)
    return len(seen)


def distinct_prompt_tokens(prompts: list[list[int]]) -> int:
    """Tokens in a prefix tree of all prompts (sorted neighbours' common prefixes removed):
    the least any cache must compute."""
    ordered = sorted(tuple(p) for p in prompts)
    total, prev = 0, ()
    for p in ordered:
        common = 0
        for x, y in zip(p, prev):
            if x != y:
                break
            common += 1
        total += len(p) - common
        prev = p
    return total


def _blocks(prompt: list[int]) -> list[tuple]:
    """The prompt's cacheable blocks as (depth, key, parent key, tokens): every full block,
    then the partial tail if any. Keys chain over the tokens, as any prefix cache's must."""
    out, parent = [], 0
    for i in range(-(-len(prompt) // BLOCK)):
        tokens = tuple(prompt[i * BLOCK:(i + 1) * BLOCK])
        key = hash((parent, tokens))
        out.append((i, key, parent, tokens))
        parent = key
    return out


def belady_prefill(prompts: list[list[int]], outputs: list[int], capacity: int) -> int:
    """Prompt tokens prefilled under Belady's MIN, one request at a time in the given order.

    A request reads the longest chain of cached full blocks of its prompt, then the longest
    common prefix of its next block with any cached block under the same parent (a copied
    tail), and always computes its last token. While it runs it pins its own blocks (prompt
    and output); afterwards its prompt blocks stay cached. When room is needed, the cached
    block whose next use as a full block of a later prompt is furthest goes (ties: deepest
    first, so chains are cut from their ends)."""
    blocks = [_blocks(p) for p in prompts]
    uses: dict[int, list[int]] = {}
    for r, (p, bl) in enumerate(zip(prompts, blocks)):
        for depth, key, _, _ in bl[:(len(p) - 1) // BLOCK]:
            uses.setdefault(key, []).append(r)
    never = len(prompts) + 1

    def next_use(key: int, r: int) -> int:
        lst = uses.get(key, ())
        i = bisect.bisect_right(lst, r)
        return lst[i] if i < len(lst) else never

    cache: dict[int, tuple] = {}                   # key -> (next use, depth, parent, tokens)
    children: dict[int, set[int]] = {}             # parent key -> cached children
    heap: list = []
    prefilled = 0

    def drop(key: int) -> None:
        _, _, parent, _ = cache.pop(key)
        children[parent].discard(key)

    for r, (p, bl) in enumerate(zip(prompts, blocks)):
        limit = len(p) - 1
        hit = 0
        while hit < limit // BLOCK and bl[hit][1] in cache:
            hit += 1
        parent = bl[hit - 1][1] if hit else 0
        want = p[hit * BLOCK:min((hit + 1) * BLOCK, limit)]
        best = max((common_prefix(cache[key][3], want) for key in children.get(parent, ())), default=0)
        prefilled += len(p) - hit * BLOCK - best
        own = {key for _, key, _, _ in bl}
        pinned = -(-(len(p) + outputs[r]) // BLOCK)
        others = len(cache) - sum(1 for key in own if key in cache)
        while others + pinned > capacity and heap:
            nu, negdepth, key = heapq.heappop(heap)
            if key in cache and key not in own and cache[key][0] == -nu:
                drop(key)
                others -= 1
        for depth, key, par, tokens in bl:
            cache[key] = (next_use(key, r), depth, par, tokens)
            children.setdefault(par, set()).add(key)
            heapq.heappush(heap, (-cache[key][0], -depth, key))
    return prefilled


# ---- runs ------------------------------------------------------------------------------------
def real_run(path, config_kw, prompts, outputs, clock, cost_model):
    """The engine under the simulator's cost model too (the ``cost`` policy and the running
    cap read it), so both make the same decisions."""
    from executor.engine import Engine, EngineConfig, Request

    engine = Engine(EngineConfig(model=path, **config_kw), cost_model)
    start = clock()
    outs = engine.generate([Request(prompt_ids=p, max_tokens=n, ignore_eos=True)
                            for p, n in zip(prompts, outputs)])
    seconds = clock() - start
    return seconds, engine.stats, [o.token_ids for o in outs], engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--rows", type=int, default=128, help="requests per workload in real runs")
    ap.add_argument("--sim-requests", type=int, default=10_000)
    ap.add_argument("--size", default="small", choices=["tiny", "small", "medium"])
    ap.add_argument("--model", help="an existing HF model folder instead of a random one")
    ap.add_argument("--max-tokens", type=int, default=8, help="output tokens per movies row")
    ap.add_argument("--batch-tokens", type=int, default=2048)
    ap.add_argument("--budgets", default="0.25,0.5", help="KV budgets, fractions of the working set")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    ap.add_argument("--database", help="DuckDB file holding a calibration of this model "
                                       "(infersql calibrate); otherwise calibrated here")
    ap.add_argument("--calibration-scale", type=float, default=0.5)
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    import torch
    from transformers import AutoTokenizer

    from executor.engine import Engine, EngineConfig
    from executor.engine.cost_fit import calibrate
    from executor.engine.cost_model import load_cost_model
    from executor.engine.geometry import bytes_per_block, read_geometry
    from executor.engine.simulator import simulate

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.clock == "cpu":
        torch.set_num_threads(1)
    path = model_path(args.model, args.size)
    tok = AutoTokenizer.from_pretrained(path)
    rows = load_rows(args.data, "movies")
    budgets = [float(b) for b in args.budgets.split(",")]
    block_bytes = bytes_per_block(read_geometry(path), BLOCK, "float32")
    notes = [f"{datetime.date.today()}, {machine()}",
             f"command: `{' '.join(['python bench/policy_bench.py', *sys.argv[1:]])}`",
             f"model: {args.model or 'random qwen2 ' + args.size}, fp32, block {BLOCK}, "
             f"token budget {args.batch_tokens}, clock: {args.clock}"]

    # ---- the cost model -----------------------------------------------------------------
    cost_model = None
    if args.database:
        import duckdb

        cost_model = load_cost_model(duckdb.connect(args.database), path, "cpu", "float32")
    if cost_model is None or not cost_model.calibrated:
        engine = Engine(EngineConfig(model=path, kv_cache_bytes=1 << 30, decode_batch="max"))
        t = time.perf_counter()
        cal = calibrate(engine, scale=args.calibration_scale, clock=clock,
                        source=f"cpu float32, {args.clock} clock")
        cost_model = cal.model
        notes.append(f"calibrated here in {time.perf_counter() - t:.0f} s: "
                     f"{len(cal.train) + len(cal.held_out)} iterations, MAPE "
                     f"{100 * cal.train_mape:.1f}% fitted, {100 * cal.held_out_mape:.1f}% on "
                     f"{len(cal.held_out)} held-out iterations")
        del engine
    notes.append(f"cost model: {cost_model.describe()}")

    if not args.skip_real:        # warm torch's kernels once, on an engine of its own, so
        real_run(path, dict(kv_cache_bytes=64 << 20), [[1, 2, 3] * 6], [2], clock, cost_model)
        # every measured engine starts with an empty cache, as the simulator does
    workloads = {
        "movies": movies_workload(tok, rows, args.rows, args.max_tokens, args.seed),
        "synthetic": synthetic_workload(args.rows, args.seed),
    }
    results = []          # dicts, one per (mode, workload, budget, eviction, preemption)
    for name, (prompts, outputs) in workloads.items():
        results += compare(name, prompts, outputs, budgets, block_bytes, path, args, clock,
                           cost_model, simulate, real=not args.skip_real)
    sim_workloads = {
        "movies": many_instruction_movies(tok, rows, args.sim_requests, args.max_tokens, args.seed),
        "synthetic": synthetic_workload(args.sim_requests, args.seed + 1),
    }
    for name, (prompts, outputs) in sim_workloads.items():
        results += compare(name, prompts, outputs, budgets, block_bytes, path, args, clock,
                           cost_model, simulate, real=False)
    report(results, notes)
    plot(results)


def compare(name, prompts, outputs, budgets, block_bytes, path, args, clock, cost_model,
            simulate, real: bool) -> list[dict]:
    from executor.engine import EngineConfig

    ws_blocks = working_set_blocks(prompts)
    cold = distinct_prompt_tokens(prompts)
    largest = max(-(-(len(p) + n) // BLOCK) for p, n in zip(prompts, outputs))
    out = []
    reference = None
    for frac in budgets:
        blocks = max(int(frac * ws_blocks), largest)
        optimum = belady_prefill(prompts, outputs, blocks)
        base = dict(mode="real+sim" if real else ("sim" if len(prompts) > args.rows else "sim-small"),
                    workload=name, n=len(prompts),
                    budget=frac, blocks=blocks, ws_blocks=ws_blocks, cold=cold,
                    prompt_tokens=sum(len(p) for p in prompts), optimum=optimum)
        one = simulate(EngineConfig(model=path, kv_cache_bytes=blocks * block_bytes,
                                    block_size=BLOCK, max_batch_tokens=args.batch_tokens,
                                    eviction="belady", max_num_seqs=1), prompts, outputs, cost_model)
        base["belady_one_at_a_time"] = one.stats.prefilled_tokens
        for ev in EVICTIONS:
            for pr in PREEMPTIONS:
                kw = dict(kv_cache_bytes=blocks * block_bytes, block_size=BLOCK,
                          max_batch_tokens=args.batch_tokens, eviction=ev, preemption=pr)
                t = time.perf_counter()
                sim = simulate(EngineConfig(model=path, **kw), prompts, outputs, cost_model)
                row = dict(base, eviction=ev, preemption=pr, sim_seconds=sim.seconds,
                           sim_wall=time.perf_counter() - t, **{f"sim_{k}": v for k, v in
                                                                 sim.stats.as_dict().items()})
                if real:
                    secs, stats, toks, _ = real_run(path, kw, prompts, outputs, clock, cost_model)
                    reference = reference or toks
                    same = all(getattr(stats, k) == getattr(sim.stats, k) for k in
                               ("prefilled_tokens", "cached_tokens", "preemptions", "swaps",
                                "iterations", "recomputed_tokens"))
                    row.update(real_seconds=secs, same_counts=same,
                               identical=sum(a == b for a, b in zip(toks, reference)),
                               **{f"real_{k}": v for k, v in stats.as_dict().items()})
                out.append(row)
                print(f"{row['mode']:8s} {name:9s} n={len(prompts):5d} {frac:.2f} {ev:4s} {pr:6s} "
                      f"prefilled sim {sim.stats.prefilled_tokens:8d} "
                      + (f"real {row['real_prefilled_tokens']:8d} {row['real_seconds']:.2f}s vs "
                         f"sim {sim.seconds:.2f}s" if real else f"sim {sim.seconds:.1f}s")
                      + f" (optimum {optimum})", file=sys.stderr, flush=True)
    return out


def report(results: list[dict], notes: list[str]) -> None:
    print("\n".join(f"- {n}" for n in notes))
    for mode in ("real+sim", "sim-small", "sim"):
        for wl in ("movies", "synthetic"):
            rows = [r for r in results if r["mode"] == mode and r["workload"] == wl]
            if not rows:
                continue
            r0 = rows[0]
            print(f"\n#### {wl}, {'real engine and simulator' if mode == 'real+sim' else 'simulator only'}"
                  f": {r0['n']} requests, {r0['prompt_tokens']} prompt tokens, working set "
                  f"{r0['ws_blocks']} blocks ({r0['cold']} distinct prompt tokens)\n")
            real = mode == "real+sim"
            src = "real" if real else "sim"
            head = ("| budget | eviction | preemption | prefilled | recomputed | vs optimum "
                    "| preempt-recomputed | preemptions | swaps | "
                    + ("real s | sim s | sim/real | sim counts = real | outputs = first pair's |"
                       if real else "sim s |"))
            print(head)
            print("|" + "---|" * (head.count("|") - 1))
            for r in rows:
                pre = r[f"{src}_prefilled_tokens"]
                rec, opt = pre - r["cold"], r["optimum"] - r["cold"]
                cells = [f"{r['budget']:.0%} ({r['blocks']} blocks)", r["eviction"], r["preemption"],
                         pre, rec, f"{pre / r['optimum']:.3f}x", r[f"{src}_recomputed_tokens"],
                         r[f"{src}_preemptions"], r[f"{src}_swaps"]]
                if real:
                    cells += [f"{r['real_seconds']:.2f}", f"{r['sim_seconds']:.2f}",
                              f"{r['sim_seconds'] / r['real_seconds']:.2f}",
                              "yes" if r["same_counts"] else "no", f"{r['identical']}/{r['n']}"]
                else:
                    cells += [f"{r['sim_seconds']:.1f}"]
                print("| " + " | ".join(str(c) for c in cells) + " |")
            for b in sorted({r["budget"] for r in rows}):
                sub = [r for r in rows if r["budget"] == b]
                best = lambda ev: min(r[f"{src}_prefilled_tokens"] for r in sub if r["eviction"] == ev)  # noqa: E731
                opt, cold = sub[0]["optimum"], sub[0]["cold"]
                lru, belady = best("lru") - cold, best("belady") - cold
                one = sub[0]["belady_one_at_a_time"]
                print(f"\nbudget {b:.0%}: Belady optimum (one request at a time) prefills {opt} "
                      f"({opt - cold} recomputed); best belady {best('belady')} = "
                      f"{best('belady') / opt:.3f}x optimum; belady in the simulator with one "
                      f"request at a time (max_num_seqs=1) {one} = {one / opt:.3f}x optimum; "
                      f"belady recomputes {1 - belady / lru if lru else 0:.1%} fewer tokens than "
                      f"lru ({belady} vs {lru})")
                if real:
                    ratios = [r["sim_seconds"] / r["real_seconds"] for r in sub]
                    print(f"sim/real makespan at {b:.0%}: {min(ratios):.2f}-{max(ratios):.2f}")


def plot(results: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for mode, fname in (("real+sim", "policy_bench_real.png"), ("sim", "policy_bench_sim.png")):
        rows = [r for r in results if r["mode"] == mode]
        if not rows:
            continue
        src = "real" if mode == "real+sim" else "sim"
        panels = sorted({(r["workload"], r["budget"]) for r in rows})
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False)
        for ax, (wl, b) in zip(axes[0], panels):
            sub = [r for r in rows if r["workload"] == wl and r["budget"] == b]
            labels = [f"{r['eviction']}\n{r['preemption']}" for r in sub]
            vals = [r[f"{src}_prefilled_tokens"] - r["cold"] for r in sub]
            colors = {"lru": "tab:gray", "lfu": "tab:blue", "belady": "tab:green"}
            ax.bar(range(len(sub)), vals, color=[colors[r["eviction"]] for r in sub])
            ax.axhline(sub[0]["optimum"] - sub[0]["cold"], color="red", ls="--", label="Belady optimum")
            ax.set_xticks(range(len(sub)), labels, fontsize=6)
            ax.set_title(f"{wl}, n={sub[0]['n']}, KV {b:.0%} of working set", fontsize=8)
            ax.set_ylabel("tokens recomputed", fontsize=8)
            ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(REPO / "bench" / fname, dpi=110)
        plt.close(fig)
    real = [r for r in results if r["mode"] == "real+sim"]
    if real:
        fig, ax = plt.subplots(figsize=(4.5, 4.2))
        for wl, marker in (("movies", "o"), ("synthetic", "s")):
            sub = [r for r in real if r["workload"] == wl]
            ax.scatter([r["real_seconds"] for r in sub], [r["sim_seconds"] for r in sub],
                       marker=marker, label=wl)
        top = max(max(r["real_seconds"], r["sim_seconds"]) for r in real) * 1.05
        ax.plot([0, top], [0, top], "k-", lw=0.8)
        ax.plot([0, top], [0, 1.15 * top], "k:", lw=0.6)
        ax.plot([0, top], [0, 0.85 * top], "k:", lw=0.6)
        ax.set_xlabel("real makespan (s)")
        ax.set_ylabel("simulated makespan (s)")
        ax.set_title("simulator vs engine, every policy pair and budget", fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(REPO / "bench" / "policy_bench_sim_vs_real.png", dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    main()
