"""Engine throughput against its peers, side by side, on one workload in one run.

Workload: sampled rows of movies.csv under one instruction (see ``common.movie_prompt``); every
system gets the same prompt token ids, decodes greedily and exactly ``--max-tokens`` tokens
(EOS ignored), and is timed over the whole batch after a warm-up. Peers:
  (a) HF ``generate`` with left-padded batches: what a user writes;
  (b) transformers' own continuous batching (``generate_batch``);
  (c) this engine with prefix caching off;
  (d) vLLM's CPU build with prefix caching, from a separate venv (``--vllm-python``).
Prints each system's time and throughput and the engine's speedup over each.

    python bench/engine_bench.py --data ../shared/data --rows 128 --max-tokens 8
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import tempfile
import time

import torch

from common import DEFAULT_DATA, REPO, load_rows, machine, model_path, movie_prompt, sample_rows

WARMUP = [[11, 12, 13, 14] * 8, [21, 22, 23] * 9]


def run_engine(path: str, prompts: list[list[int]], max_tokens: int, prefix_caching: bool):
    from executor.engine import Engine, EngineConfig, Request

    engine = Engine(EngineConfig(model=path, kv_cache_bytes=1 << 30, max_batch_tokens=2048,
                                 prefix_caching=prefix_caching))
    engine.generate([Request(prompt_ids=p, max_tokens=2) for p in WARMUP])
    engine.reset_stats()
    start = time.perf_counter()
    outs = engine.generate([Request(prompt_ids=p, max_tokens=max_tokens, ignore_eos=True)
                            for p in prompts])
    return time.perf_counter() - start, [o.token_ids for o in outs], engine.stats


def _hf_model(path: str):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def run_hf_padded(path: str, prompts: list[list[int]], max_tokens: int, batch_size: int):
    from transformers import GenerationConfig

    model = _hf_model(path)
    pad = model.generation_config.pad_token_id or 0
    config = GenerationConfig(max_new_tokens=max_tokens, do_sample=False, pad_token_id=pad)

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
    for i in range(0, len(prompts), batch_size):
        outs.extend(batch(prompts[i:i + batch_size]))
    return time.perf_counter() - start, outs


def run_hf_continuous(path: str, prompts: list[list[int]], max_tokens: int):
    from transformers import GenerationConfig

    logging.getLogger("ContinuousBatchingLogger").setLevel(logging.ERROR)
    model = _hf_model(path)
    config = GenerationConfig(max_new_tokens=max_tokens, do_sample=False, eos_token_id=None,
                              pad_token_id=0)
    model.generate_batch(inputs=WARMUP, generation_config=config)
    start = time.perf_counter()
    out = model.generate_batch(inputs=prompts, generation_config=config)
    seconds = time.perf_counter() - start
    return seconds, [out[f"req_{i}"].generated_tokens for i in range(len(prompts))]


def run_vllm(python: str, path: str, prompts: list[list[int]], max_tokens: int):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        json.dump({"model": path, "prompts": prompts, "max_tokens": max_tokens}, open(src, "w"))
        env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="2", VLLM_LOGGING_LEVEL="ERROR")
        proc = subprocess.run([python, str(REPO / "bench" / "vllm_peer.py"), src, dst],
                              capture_output=True, text=True, env=env, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        res = json.load(open(dst))
    return res["seconds"], res["outputs"]


def _until_eos(tokens: list[int], eos: int) -> list[int]:
    return tokens[:tokens.index(eos) + 1] if eos in tokens else tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder with movies.csv (or the file)")
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--size", default="small", choices=["tiny", "small", "medium"],
                    help="size of the random Qwen2 built when --model is not given")
    ap.add_argument("--model", help="an existing HF model folder instead of a random one")
    ap.add_argument("--batch-size", type=int, default=16, help="HF generate batch size")
    ap.add_argument("--vllm-python", default="/work/vllm-venv/bin/python")
    ap.add_argument("--skip-vllm", action="store_true")
    ap.add_argument("--skip-hf-batch", action="store_true")
    args = ap.parse_args()
    logging.getLogger("transformers").setLevel(logging.ERROR)

    path = model_path(args.model, args.size)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    rows = sample_rows(load_rows(args.data, "movies"), args.rows)
    prompts = [tok(movie_prompt(r)).input_ids for r in rows]
    n_prompt = sum(len(p) for p in prompts)
    n_out = len(prompts) * args.max_tokens
    print(f"machine: {machine()}")
    print(f"model: {path} | rows: {len(prompts)} | prompt tokens: {n_prompt} "
          f"(mean {n_prompt / len(prompts):.0f}) | new tokens per row: {args.max_tokens}")

    results: dict[str, float] = {}
    ours_s, ours_out, stats = run_engine(path, prompts, args.max_tokens, True)
    results["infersql engine"] = ours_s
    print(f"engine stats: prefilled {stats.prefilled_tokens}, cached {stats.cached_tokens}, "
          f"decoded {stats.decoded_tokens}, iterations {stats.iterations}")
    hf_s, hf_out = run_hf_padded(path, prompts, args.max_tokens, args.batch_size)
    results[f"(a) HF generate, padded batches of {args.batch_size}"] = hf_s
    eos = tok.eos_token_id
    same = sum(_until_eos(a, eos) == _until_eos(b, eos) for a, b in zip(ours_out, hf_out))
    print(f"greedy outputs identical to HF generate (up to EOS, where HF stops a row): "
          f"{same}/{len(prompts)}")
    if not args.skip_hf_batch:
        results["(b) HF generate_batch (continuous batching)"] = run_hf_continuous(
            path, prompts, args.max_tokens)[0]
    results["(c) infersql engine, prefix caching off"] = run_engine(
        path, prompts, args.max_tokens, False)[0]
    if args.skip_vllm:
        print("vLLM: skipped (--skip-vllm)")
    elif not os.path.exists(args.vllm_python):
        print(f"vLLM: skipped, no python at {args.vllm_python} (see bench/BENCHMARKS.md)")
    else:
        try:
            v_s, v_out = run_vllm(args.vllm_python, path, prompts, args.max_tokens)
            results["(d) vLLM CPU, prefix caching on"] = v_s
            print(f"greedy outputs identical to vLLM: {sum(a == b for a, b in zip(ours_out, v_out))}/{len(prompts)}")
        except RuntimeError as exc:
            print(f"vLLM failed: {exc}")

    total = n_prompt + n_out
    print(f"\n| system | seconds | rows/s | tokens/s | engine speedup |")
    print("|---|---:|---:|---:|---:|")
    for name, secs in results.items():
        print(f"| {name} | {secs:.2f} | {len(prompts) / secs:.1f} | {total / secs:.0f} | "
              f"{secs / ours_s:.2f}x |")


if __name__ == "__main__":
    main()
