"""The vLLM peer, run with the python of a separate venv that has vLLM's CPU build.

vLLM is never a project dependency: engine_bench.py writes the prompt ids to a JSON file,
runs this script in that venv, and reads back the timing. Usage:
    /path/to/vllm-venv/bin/python bench/vllm_peer.py IN.json OUT.json
"""
import json
import sys
import time


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    job = json.load(open(src))
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    llm = LLM(model=job["model"], enable_prefix_caching=True, dtype="float32",
              max_model_len=job.get("max_model_len", 2048), seed=0)
    params = SamplingParams(temperature=0.0, max_tokens=job["max_tokens"], ignore_eos=True)
    prompts = [TokensPrompt(prompt_token_ids=ids) for ids in job["prompts"]]
    llm.generate(prompts[:2], params, use_tqdm=False)          # warm-up
    llm.reset_prefix_cache()
    start = time.perf_counter()
    outs = llm.generate(prompts, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    json.dump({"seconds": seconds, "outputs": [list(o.outputs[0].token_ids) for o in outs]},
              open(dst, "w"))


if __name__ == "__main__":
    main()
