"""Small KV caches: does a planned query still compute each distinct prompt token once?

Workload (issue 24): all 1,213 movie reviews, shuffled, one LLM_FILTER over title, description
and review (``common.REVIEW_FILTER`` on ``create_review_table``), and one LLM_CLASSIFY over the
same fields with multi-token labels. Each query runs planned (depth-first prompt order) through
``infersql.connect`` at KV caches of 4,096 and 8,192 tokens and an ample one, with ``belady``
(``plan``) and ``lru`` eviction, side by side, and the engine's simulator runs the same prompts.

Printed per run: prefilled tokens against the bound (the prompts' trie: every distinct prefix
token computed once), against LRU at the same cache, and whether the counters add up
(cached + prefilled - prompt - recomputed, which must be 0).

    python bench/cache_bound_bench.py --data ../shared/data [--model FOLDER] [--rows 1213]
"""
from __future__ import annotations

import argparse
import logging
import os
import time

from common import DEFAULT_DATA, REVIEW_FILTER, create_review_table, machine, model_path

CLASSIFY = ("SELECT LLM_CLASSIFY('What does the critic think of the film?', "
            "['recommends it', 'does not recommend it', 'undecided'], title, info, review) FROM r")
KV_TOKENS = (4096, 8192, None)          # None: ample (1 GiB)


def run(model: str, data: str, rows: int, sql: str, kv_tokens: int | None, eviction: str):
    """One planned run in a fresh database: its statement counters, the bound of the prompts
    the engine received, those prompts and their choices, and the seconds."""
    import infersql
    from executor.engine.geometry import read_geometry
    from executor.prefix_sharing import trie_tokens

    per_token = read_geometry(model).kv_bytes_per_token("float32")
    kv = (kv_tokens * per_token) if kv_tokens else 1 << 30
    with infersql.connect(model=model, kv_cache_bytes=kv, eviction=eviction) as conn:
        create_review_table(conn, data, rows)
        engine, sent = conn.engine, []
        generate = engine.generate

        def spy(requests, **kw):
            sent.extend(requests)
            return generate(requests, **kw)

        engine.generate = spy
        cur = conn.cursor()
        start = time.perf_counter()
        cur.execute(sql).fetchall()
        seconds = time.perf_counter() - start
        prompts = [list(r.prompt_ids) for r in sent]
        choices = [[engine.tokenizer.encode(c, add_special_tokens=False) for c in r.choices]
                   if r.choices else None for r in sent]
        return cur.stats, trie_tokens(prompts), prompts, choices, seconds


def simulated(model: str, prompts, choices, kv_tokens: int | None, eviction: str) -> int:
    """Prefilled tokens the simulator predicts for the same prompts, or -1 if this version of
    the simulator cannot run choice children."""
    import inspect

    from executor.engine import EngineConfig
    from executor.engine.geometry import read_geometry
    from executor.engine.simulator import simulate

    per_token = read_geometry(model).kv_bytes_per_token("float32")
    config = EngineConfig(model=model, eviction=eviction,
                          kv_cache_bytes=(kv_tokens * per_token) if kv_tokens else 1 << 30)
    kw = {"choices": choices} if "choices" in inspect.signature(simulate).parameters else {}
    if not kw and any(c and max(map(len, c)) > 1 for c in choices):
        return -1
    return simulate(config, prompts, [1] * len(prompts), **kw).stats.prefilled_tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--rows", type=int, default=1213)
    ap.add_argument("--model", action="append",
                    help="model folder (repeatable; default: the built-in model and a random "
                         "small Qwen2)")
    args = ap.parse_args()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    from infersql.demo_model import default_model_path

    models = args.model or [str(default_model_path()), model_path(None, "small")]
    print(f"\n{machine()}; load average {os.getloadavg()[0]:.1f}; {args.rows} rows\n")
    print("| model | query | KV tokens | eviction | prompt | cached | prefilled | recomputed | "
          "counters (must be 0) | prefilled / bound | / lru | simulated / bound | s |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in models:
        name = "built-in" if model == str(default_model_path()) else os.path.basename(model)
        for label, sql in (("filter", REVIEW_FILTER), ("classify", CLASSIFY)):
            for kv_tokens in KV_TOKENS:
                lru_prefilled = None
                for eviction in ("lru", "belady"):
                    s, bound, prompts, choices, secs = run(model, args.data, args.rows, sql,
                                                           kv_tokens, eviction)
                    lru_prefilled = lru_prefilled or s.prefilled_tokens
                    sim = simulated(model, prompts, choices, kv_tokens, eviction)
                    gap = s.cached_tokens + s.prefilled_tokens - s.prompt_tokens - s.recomputed_tokens
                    sim_cell = f"{sim / bound:.3f}" if sim >= 0 else "–"
                    print(f"| {name} | {label} | {kv_tokens or 'ample'} | {eviction} | "
                          f"{s.prompt_tokens} | {s.cached_tokens} | {s.prefilled_tokens} | "
                          f"{s.recomputed_tokens} | {gap} | {s.prefilled_tokens / bound:.3f} | "
                          f"{s.prefilled_tokens / lru_prefilled:.3f} | {sim_cell} | {secs:.1f} |",
                          flush=True)


if __name__ == "__main__":
    main()
