"""The vLLM peer, run with the python of a separate venv that has vLLM's CPU build.

vLLM is never a project dependency: engine_bench.py writes the prompt ids and settings to a
JSON file, runs this script in that venv, and reads back the timing and the outputs. Only the
``generate`` call over the whole batch is timed, after a warm-up, with the prefix cache emptied
in between so that vLLM starts as cold as the engine does. Usage:
    /path/to/vllm-venv/bin/python bench/vllm_peer.py IN.json OUT.json
IN.json: {"model", "prompts": [[ids]], "max_tokens"} and optionally "dtype", "max_batch_tokens",
"block_size"; OUT.json: {"seconds", "cached_tokens", "block_size", "outputs": [[ids]]}.

A second form serves query_bench.py, which runs many queries against one engine start (vLLM
takes about 30 s to start): IN.json {"model", "jobs": [{"name", "stages": [{"prompts":
[[ids]], "max_tokens", "ignore_eos"}]}]} and optionally "dtype", "max_batch_tokens",
"block_size", "num_blocks" (a KV budget in blocks, through vLLM's num_gpu_blocks_override).
Each job is one query: its stages (one per LLM call invocation, in order) are generated one
after another and timed together, with the prefix cache emptied before each job. OUT.json:
{"block_size", "num_blocks", "jobs": [{"name", "seconds", "prompt_tokens", "cached_tokens",
"outputs"}]}.
"""
import json
import sys
import time


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        job = json.load(f)
    if "jobs" in job:
        run_jobs(job, dst)
        return
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    llm = make_llm(job)
    params = SamplingParams(temperature=0.0, max_tokens=job["max_tokens"], ignore_eos=True)
    prompts = [TokensPrompt(prompt_token_ids=ids) for ids in job["prompts"]]
    llm.generate(prompts[:2], params, use_tqdm=False)          # warm-up
    llm.reset_prefix_cache()
    start = time.perf_counter()
    outs = llm.generate(prompts, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    with open(dst, "w") as f:
        json.dump({"seconds": seconds, "cached_tokens": sum(o.num_cached_tokens or 0 for o in outs),
                   "block_size": llm.llm_engine.vllm_config.cache_config.block_size,
                   "outputs": [list(o.outputs[0].token_ids) for o in outs]}, f)


def make_llm(job: dict):
    """vLLM with prefix caching, configured from the job's settings. It must be created under
    __main__: vLLM starts worker processes that re-import this module."""
    from vllm import LLM

    keys = {"max_batch_tokens": "max_num_batched_tokens", "block_size": "block_size",
            "num_blocks": "num_gpu_blocks_override"}
    extra = {theirs: job[ours] for ours, theirs in keys.items() if job.get(ours)}
    return LLM(model=job["model"], enable_prefix_caching=True, dtype=job.get("dtype", "float32"),
               max_model_len=job.get("max_model_len", 2048), seed=0, **extra)


def run_jobs(job: dict, dst: str) -> None:
    """The query form (see the module docstring): one engine, many timed jobs."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    llm = make_llm(job)
    warm = [TokensPrompt(prompt_token_ids=ids) for ids in job["jobs"][0]["stages"][0]["prompts"][:2]]
    llm.generate(warm, SamplingParams(temperature=0.0, max_tokens=2), use_tqdm=False)
    results = []
    for item in job["jobs"]:
        llm.reset_prefix_cache()
        outputs, cached, prompt = [], 0, 0
        start = time.perf_counter()
        for stage in item["stages"]:
            params = SamplingParams(temperature=0.0, max_tokens=stage["max_tokens"],
                                    ignore_eos=stage.get("ignore_eos", False))
            outs = llm.generate([TokensPrompt(prompt_token_ids=ids) for ids in stage["prompts"]],
                                params, use_tqdm=False)
            outputs.append([list(o.outputs[0].token_ids) for o in outs])
            cached += sum(o.num_cached_tokens or 0 for o in outs)
            prompt += sum(len(o.prompt_token_ids) for o in outs)
        results.append({"name": item.get("name"), "seconds": time.perf_counter() - start,
                        "prompt_tokens": prompt, "cached_tokens": cached, "outputs": outputs})
    config = llm.llm_engine.vllm_config.cache_config
    with open(dst, "w") as f:
        json.dump({"block_size": config.block_size, "num_blocks": config.num_gpu_blocks,
                   "jobs": results}, f)


if __name__ == "__main__":
    main()
