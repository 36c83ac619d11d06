"""bfloat16 on CPU: same tokens as HF generate in bf16, except where bf16 rounding decides a
near-tie (then the two logits HF saw at the first divergence must be within bf16 noise)."""
from __future__ import annotations

import random

import torch
from transformers import AutoModelForCausalLM

from executor.engine import Engine, EngineConfig, Request

BF16_NOISE = 0.25   # logit gap that bf16 accumulation-order differences can flip


def test_bf16_matches_hf_up_to_rounding_ties(model_factory):
    path = model_factory("llama")
    engine = Engine(EngineConfig(model=path, dtype="bfloat16", kv_cache_bytes=8 << 20))
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16).eval()
    rng = random.Random(0)
    prompts = [[rng.randrange(1, 500) for _ in range(rng.randint(3, 60))] for _ in range(8)]
    outs = engine.generate([Request(prompt_ids=p, max_tokens=10) for p in prompts])
    exact = 0
    for p, out in zip(prompts, outs):
        with torch.no_grad():
            ref = model.generate(torch.tensor([p]), max_new_tokens=10, do_sample=False)[0, len(p):].tolist()
        if out.token_ids == ref:
            exact += 1
            continue
        i = next(i for i, (a, b) in enumerate(zip(out.token_ids, ref)) if a != b)
        with torch.no_grad():
            logits = model(torch.tensor([p + ref[:i]])).logits[0, -1].float()
        assert logits[ref[i]] - logits[out.token_ids[i]] < BF16_NOISE
    assert exact >= 6
