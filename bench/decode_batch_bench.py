"""Running-set cap (``EngineConfig.decode_batch``): throughput cost against rows finished early.

Issue 9: with long outputs over many rows, admitting every row at once makes them all finish
near the end, so a cancelled query keeps few rows. ``decode_batch="auto"`` caps the running set
at the cost model's throughput knee (the smallest batch within 5% of a budget-sized batch's
token rate). This runs the same rows with ``"max"`` (every row at once, up to
``max_num_seqs``) and ``"auto"`` side by side, and prints the throughput ratio and how many
rows were complete at 25%, 50% and 75% of each run's time.

    python bench/decode_batch_bench.py --rows 300 --max-tokens 48 --size medium
"""
from __future__ import annotations

import argparse
import datetime
import logging
import sys
import time

from common import machine, model_path


def run(path: str, mode, prompts, max_tokens: int, clock, cost_model=None):
    from executor.engine import Engine, EngineConfig, Request

    engine = Engine(EngineConfig(model=path, kv_cache_bytes=1 << 30, max_num_seqs=1024,
                                 decode_batch=mode), cost_model)
    engine.generate([Request(prompt_ids=[1, 2, 3] * 6, max_tokens=2)])
    done = []
    start = clock()
    engine.generate([Request(prompt_ids=p, max_tokens=max_tokens, ignore_eos=True)
                     for p in prompts], on_result=lambda i, o: done.append(clock() - start))
    return clock() - start, sorted(done), engine.scheduler.max_num_seqs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--prompt-tokens", type=int, default=40)
    ap.add_argument("--size", default="medium", choices=["tiny", "small", "medium"])
    ap.add_argument("--model")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="cpu: one torch thread, process CPU seconds (a shared machine)")
    args = ap.parse_args()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    import random

    import torch

    clock = time.perf_counter
    if args.clock == "cpu":
        torch.set_num_threads(1)
        clock = time.process_time
    path = model_path(args.model, args.size)
    rng = random.Random(0)
    prompts = [[rng.randrange(1, 500) for _ in range(args.prompt_tokens)] for _ in range(args.rows)]
    print(f"- {datetime.date.today()}, {machine()}, clock: {args.clock}")
    print(f"- command: `{' '.join(['python bench/decode_batch_bench.py', *sys.argv[1:]])}`")
    print(f"- model: {args.model or 'random qwen2 ' + args.size}, {args.rows} rows of "
          f"{args.prompt_tokens} prompt tokens, {args.max_tokens} new tokens each\n")
    print("| decode_batch | running cap | seconds | tokens/s | rows done at 25% / 50% / 75% of the time |")
    print("|---|---:|---:|---:|---|")
    base = None
    for mode in ("max", "auto"):
        secs, done, cap = run(path, mode, prompts, args.max_tokens, clock)
        base = base or secs
        marks = " / ".join(str(sum(t <= f * secs for t in done)) for f in (0.25, 0.5, 0.75))
        print(f"| {mode} | {cap} | {secs:.2f} | {args.rows * args.max_tokens / secs:.0f} | {marks} |")
        if mode == "auto":
            print(f"\nthroughput of auto relative to max: {base / secs:.3f}x")


if __name__ == "__main__":
    main()
