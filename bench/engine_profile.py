"""Where the engine's time goes: one ``generate`` over movie prompts under torch's profiler,
its operators' self time grouped by what they do for the model.

Why: against vLLM's CPU build the gap is per token, not in scheduling (equal prefix hit
rates, bench/BENCHMARKS.md). vLLM compiles its graph (fusing the elementwise work of norms,
rotary embeddings and activations) and reads K/V from its paged cache in its own kernels; we
run transformers' modules eagerly and gather each sequence's blocks before SDPA. This script
says how much each of those costs here, so a change can be measured before and after.

    python bench/engine_profile.py --data ../shared/data [--rows 64] [--model PATH]
"""
from __future__ import annotations

import argparse
from collections import defaultdict

from common import DEFAULT_DATA, load_rows, machine, model_path, movie_prompt, sample_rows

# torch operator -> what it does in this engine (self time; children are counted apart)
GROUPS = {
    "matrix products (projections, MLP, LM head)": ("aten::mm", "aten::addmm", "aten::bmm",
                                                    "aten::linear", "aten::matmul"),
    "K/V and query gathers (paged blocks -> SDPA)": ("aten::index", "aten::index_select"),
    "attention kernel (SDPA)": ("aten::_scaled_dot_product_flash_attention_for_cpu",
                                "aten::_scaled_dot_product_attention_math"),
    "elementwise (norms, rotary, activation, residual)": (
        "aten::mul", "aten::add", "aten::neg", "aten::pow", "aten::sum", "aten::mean",
        "aten::rsqrt", "aten::silu", "aten::div", "aten::exp", "aten::sin", "aten::cos",
        "aten::where", "aten::maximum", "aten::add_", "aten::mul_"),
    "cache writes and copies": ("aten::index_copy_", "aten::_index_put_impl_", "aten::copy_",
                                "aten::cat", "aten::masked_fill_", "aten::zeros", "aten::fill_"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--size", default="medium", choices=["tiny", "small", "medium"])
    ap.add_argument("--model", help="an existing model folder or GGUF file instead of a random one")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = ap.parse_args()
    import time

    from torch.profiler import ProfilerActivity, profile

    from executor.engine import Engine, EngineConfig, Request
    from executor.engine.compute_thread import on_compute_thread

    path = model_path(args.model, args.size)

    def warm_engine() -> Engine:
        engine = Engine(EngineConfig(model=path, device="cpu", kv_cache_bytes=1 << 30,
                                     max_batch_tokens=2048, dtype=args.dtype))
        engine.generate([Request(prompt_ids=[5, 6, 7, 8] * 8, max_tokens=2)])     # warm-up
        return engine

    engine = warm_engine()        # timed without the profiler, on a cache of its own
    rows = sample_rows(load_rows(args.data, "movies"), args.rows)
    prompts = [engine.tokenizer(movie_prompt(r))["input_ids"] for r in rows]
    start = time.perf_counter()
    engine.generate([Request(prompt_ids=p, max_tokens=args.max_tokens, ignore_eos=True)
                     for p in prompts])
    unprofiled = time.perf_counter() - start
    del engine
    engine = warm_engine()
    engine.reset_stats()

    def profiled():
        # on the engine's compute thread, where its operators run: the profiler sees its own
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            engine.generate([Request(prompt_ids=p, max_tokens=args.max_tokens, ignore_eos=True)
                             for p in prompts])
        return prof

    prof = on_compute_thread(profiled)
    seconds: dict[str, float] = defaultdict(float)
    total = 0.0
    for event in prof.key_averages():
        us = event.self_cpu_time_total
        total += us
        group = next((g for g, names in GROUPS.items() if event.key in names), "other")
        seconds[group] += us
    print(f"machine: {machine()}\nmodel: {path} ({args.dtype})\n{len(prompts)} prompts, "
          f"{sum(map(len, prompts)) / len(prompts):.0f} tokens each on average, "
          f"{args.max_tokens} decoded; {engine.stats.prefilled_tokens} prefilled, "
          f"{engine.stats.cached_tokens} from the prefix cache; {unprofiled:.2f} s unprofiled\n")
    print("| where | share of operator time |\n|---|---|")
    for group, us in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"| {group} | {us / total:.0%} |")
    others = sorted(((e.self_cpu_time_total, e.key) for e in prof.key_averages()
                     if not any(e.key in names for names in GROUPS.values())), reverse=True)
    print("\nlargest in 'other': " + ", ".join(f"{k} {us / total:.0%}" for us, k in others[:6]))
    top = sorted(((e.self_cpu_time_total, e.key, e.count) for e in prof.key_averages()), reverse=True)
    print("largest operators: " + ", ".join(f"{k} {us / total:.0%} ({n} calls)" for us, k, n in top[:12]))


if __name__ == "__main__":
    main()
