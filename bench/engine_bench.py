"""Engine throughput against its peers, side by side, on one workload in one run.

Workload: sampled rows of movies.csv under one instruction (see ``common.movie_prompt``); every
system gets the same prompt token ids, decodes greedily and exactly ``--max-tokens`` tokens
(EOS ignored everywhere, so decode lengths match), and is timed over the whole batch after a
warm-up. The engine, (b) and vLLM get the same per-iteration token budget (``--batch-tokens``).
Peers:
  (a) HF ``generate`` with left-padded batches: what a user writes;
  (b) transformers' own continuous batching (``generate_batch``);
  (c) this engine with prefix caching off;
  (d) vLLM's CPU build with prefix caching, from a separate venv (``--vllm-python``).
Prints each system's time and throughput, the engine's speedup over each, and how many greedy
outputs agree with the engine's, as a markdown snippet for bench/BENCHMARKS.md.

    python bench/engine_bench.py --data ../shared/data --rows 128 --max-tokens 8

``--typed`` measures instead what a grammar costs the engine (issue 23's target: at most
1.15x): the same prompts decoded as typed INTEGER answers, and as free text of exactly the same
per-row lengths (EOS ignored), alternately, best of two each, with the prompts already cached
by a warm-up of both, so the ratio is the decode steps' (masks filled and applied) and not
prefill's.

    python bench/engine_bench.py --typed --model /path/to/hf-folder
"""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import time
from dataclasses import dataclass

import torch

from common import (DEFAULT_DATA, load_rows, machine, model_label, model_path, movie_prompt,
                    peer_folder, run_vllm_peer,
                    sample_rows)

WARMUP = [[11, 12, 13, 14] * 8, [21, 22, 23] * 9]
BLOCK_SIZE = 16


@dataclass
class Workload:
    """What every system runs: the same prompt ids, decode length, dtype and token budget."""

    path: str
    prompts: list[list[int]]
    max_tokens: int
    dtype: str
    batch_tokens: int
    peer_path: str          # the same model as a folder, for HF and vLLM (``peer_folder``)


def run_engine(w: Workload, prefix_caching: bool):
    from executor.engine import Engine, EngineConfig, Request

    engine = Engine(EngineConfig(model=w.path, device="cpu", dtype=w.dtype, kv_cache_bytes=1 << 30,
                                 block_size=BLOCK_SIZE, max_batch_tokens=w.batch_tokens,
                                 prefix_caching=prefix_caching))
    engine.generate([Request(prompt_ids=p, max_tokens=2) for p in WARMUP])
    engine.reset_stats()
    start = time.perf_counter()
    outs = engine.generate([Request(prompt_ids=p, max_tokens=w.max_tokens, ignore_eos=True)
                            for p in w.prompts])
    return time.perf_counter() - start, [o.token_ids for o in outs], engine.stats


def typed_against_free_text(w: Workload, temperature: float = 0.0) -> dict:
    """Seconds of typed INTEGER answers and of free text of the same per-row lengths. Greedy
    rows whose best token the grammar allows skip the mask's apply; with ``temperature`` > 0
    every typed row pays for it, the worst case."""
    from executor.engine import Engine, EngineConfig, Request
    from executor.sql_types import json_schema, token_bound

    engine = Engine(EngineConfig(model=w.path, device="cpu", dtype=w.dtype, kv_cache_bytes=1 << 30,
                                 block_size=BLOCK_SIZE, max_batch_tokens=w.batch_tokens))
    schema = json_schema("INTEGER")
    budget = token_bound(schema)

    def typed():
        return engine.generate([Request(prompt_ids=p, max_tokens=budget, json_schema=schema,
                                        temperature=temperature, seed=i)
                                for i, p in enumerate(w.prompts)])

    lengths = [len(o.token_ids) for o in typed()]          # also warms up and caches the prompts

    def free():
        return engine.generate([Request(prompt_ids=p, max_tokens=n, ignore_eos=True,
                                        temperature=temperature, seed=i)
                                for i, (p, n) in enumerate(zip(w.prompts, lengths))])

    free()
    best: dict[str, float] = {}
    iterations: dict[str, int] = {}
    for name, run in (("typed", typed), ("free", free), ("typed", typed), ("free", free)):
        before = engine.stats.iterations
        start = time.perf_counter()
        outs = run()
        best[name] = min(best.get(name, 1e9), time.perf_counter() - start)
        iterations[name] = engine.stats.iterations - before
        assert [len(o.token_ids) for o in outs] == lengths          # the same tokens decoded
    return {"decoded": sum(lengths), "typed_s": best["typed"], "free_s": best["free"],
            "typed_iterations": iterations["typed"], "free_iterations": iterations["free"]}


def _hf_model(w: Workload):
    """The model for the HF peers, with EOS unset: a GenerationConfig's unset fields are filled
    from the model's own, so this is the only way to make HF ignore EOS like the others."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(w.peer_path, dtype=getattr(torch, w.dtype)).eval()
    model.generation_config.eos_token_id = None
    return model


def run_hf_padded(w: Workload, batch_size: int):
    from transformers import GenerationConfig

    model = _hf_model(w)
    pad = model.generation_config.pad_token_id or 0
    config = GenerationConfig(max_new_tokens=w.max_tokens, do_sample=False, pad_token_id=pad)

    def batch(group):
        width = max(len(p) for p in group)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in group])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in group])
        with torch.no_grad():
            out = model.generate(ids, attention_mask=mask, generation_config=config)
        return out[:, width:].tolist()

    batch(WARMUP)
    start = time.perf_counter()
    outs = []
    for i in range(0, len(w.prompts), batch_size):
        outs.extend(batch(w.prompts[i:i + batch_size]))
    return time.perf_counter() - start, outs


def run_hf_continuous(w: Workload):
    """``generate_batch`` with the engine's page size and token budget: its CPU default budget
    (8192) is about twice as slow on this workload."""
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    logging.getLogger("ContinuousBatchingLogger").setLevel(logging.CRITICAL)
    model = _hf_model(w)
    config = GenerationConfig(max_new_tokens=w.max_tokens, do_sample=False, pad_token_id=0)
    blocks = sum(-(-(len(p) + w.max_tokens) // BLOCK_SIZE) for p in w.prompts)
    cb = ContinuousBatchingConfig(page_size=BLOCK_SIZE, max_batch_tokens=w.batch_tokens,
                                  num_blocks=blocks)
    model.generate_batch(inputs=WARMUP, generation_config=config, continuous_batching_config=cb)
    start = time.perf_counter()
    out = model.generate_batch(inputs=w.prompts, generation_config=config,
                               continuous_batching_config=cb)
    seconds = time.perf_counter() - start
    return seconds, [out[f"req_{i}"].generated_tokens for i in range(len(w.prompts))]


def run_vllm(w: Workload, python: str, block_size: int):
    """Runs bench/vllm_peer.py with the vLLM venv's python (``common.run_vllm_peer``); raises
    RuntimeError with vLLM's root-cause error line when it fails."""
    res = run_vllm_peer(python, {"model": w.peer_path, "prompts": w.prompts,
                                 "max_tokens": w.max_tokens, "dtype": w.dtype,
                                 "max_batch_tokens": w.batch_tokens, "block_size": block_size})
    return res["seconds"], res["outputs"], res["block_size"], res["cached_tokens"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA),
                    help="folder with movies.csv (or the file itself)")
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--size", default="medium", choices=["tiny", "small", "medium"],
                    help="size of the random Qwen2 built when --model is not given")
    ap.add_argument("--model", help="an existing HF model folder or GGUF file instead of a "
                    "random one")
    ap.add_argument("--batch-size", type=int, default=16, help="HF generate batch size")
    ap.add_argument("--batch-tokens", type=int, default=2048,
                    help="per-iteration token budget of the engine, generate_batch and vLLM")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                    help="weights and activations, the same for every system")
    ap.add_argument("--vllm-python", default="/work/vllm-venv/bin/python")
    ap.add_argument("--vllm-block-size", type=int, default=32,
                    help="vLLM's KV block size: its CPU attention takes multiples of 32 only; "
                         "32 shares the most prefix (its default, 128, is slower here)")
    ap.add_argument("--skip-vllm", action="store_true")
    ap.add_argument("--skip-hf-batch", action="store_true")
    ap.add_argument("--typed", action="store_true",
                    help="the engine alone: typed INTEGER answers against free text of equal length")
    args = ap.parse_args()
    logging.getLogger("transformers").setLevel(logging.ERROR)

    path = model_path(args.model, args.size)
    from executor.engine.gguf_model import load_tokenizer

    tok = load_tokenizer(path)
    rows = sample_rows(load_rows(args.data, "movies"), args.rows)
    prompts = [tok(movie_prompt(r)).input_ids for r in rows]
    w = Workload(path, prompts, args.max_tokens, args.dtype, args.batch_tokens, peer_folder(path))
    n_prompt = sum(len(p) for p in prompts)
    total = n_prompt + len(prompts) * args.max_tokens
    notes = [f"{datetime.date.today()}, {machine()}",
             f"command: `{' '.join(['python bench/engine_bench.py', *sys.argv[1:]])}`",
             f"model: {model_label(args.model, args.size)} | rows: {len(prompts)} | "
             f"prompt tokens: {n_prompt} (mean {n_prompt / len(prompts):.0f}) | "
             f"new tokens per row: {args.max_tokens} | {args.dtype} | "
             f"token budget: {args.batch_tokens}"]

    if args.typed:
        notes[-1] = notes[-1].split(" | new tokens")[0] + f" | {args.dtype} | token budget: {args.batch_tokens}"
        print("\n".join(f"- {n}" for n in notes))
        print("\n| rows | sampling | decoded tokens | iterations | typed INTEGER s | free text s | typed / free |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        for temperature in (0.0, 1.0):
            r = typed_against_free_text(w, temperature)
            label = "greedy" if temperature == 0 else f"temperature {temperature:g}"
            print(f"| {len(prompts)} | {label} | {r['decoded']} | {r['typed_iterations']} | "
                  f"{r['typed_s']:.3f} | {r['free_s']:.3f} | {r['typed_s'] / r['free_s']:.3f}x |",
                  flush=True)
        return

    def agree(name: str, outs: list[list[int]]) -> None:
        same = sum(list(a) == list(b) for a, b in zip(ours_out, outs))
        notes.append(f"greedy outputs identical to the engine's, {name}: {same}/{len(prompts)}")

    results: dict[str, float] = {}
    ours_s, ours_out, stats = run_engine(w, prefix_caching=True)
    results["infersql engine"] = ours_s
    notes.append(f"engine stats: prefilled {stats.prefilled_tokens}, cached {stats.cached_tokens}, "
                 f"decoded {stats.decoded_tokens}, iterations {stats.iterations}")
    hf_s, hf_out = run_hf_padded(w, args.batch_size)
    results[f"(a) HF generate, padded batches of {args.batch_size}"] = hf_s
    agree("(a)", hf_out)
    if args.skip_hf_batch:
        notes.append("(b) skipped (--skip-hf-batch)")
    else:
        cb_s, cb_out = run_hf_continuous(w)
        results["(b) HF generate_batch (continuous batching)"] = cb_s
        agree("(b)", cb_out)
    results["(c) infersql engine, prefix caching off"] = run_engine(w, prefix_caching=False)[0]
    if args.skip_vllm:
        notes.append("(d) vLLM skipped (--skip-vllm)")
    elif not os.path.exists(args.vllm_python):
        notes.append(f"(d) vLLM skipped: no python at {args.vllm_python} "
                     "(see bench/BENCHMARKS.md for its venv)")
    else:
        try:
            v_s, v_out, v_block, v_cached = run_vllm(w, args.vllm_python, args.vllm_block_size)
            results[f"(d) vLLM CPU, prefix caching on, block size {v_block}"] = v_s
            agree("(d)", v_out)
            notes.append(f"vLLM prompt tokens from its prefix cache: {v_cached}")
        except RuntimeError as exc:
            notes.append(f"(d) vLLM failed: {exc}")

    print("\n".join(f"- {n}" for n in notes))
    print("\n| system | seconds | rows/s | tokens/s | engine speedup |")
    print("|---|---:|---:|---:|---:|")
    for name, secs in results.items():
        print(f"| {name} | {secs:.2f} | {len(prompts) / secs:.1f} | {total / secs:.0f} | "
              f"{secs / ours_s:.2f}x |")
    print("\ntokens/s counts prompt + generated tokens; "
          "engine speedup = system seconds / engine seconds.")


if __name__ == "__main__":
    main()
