"""bfloat16 on CPU: same tokens as HF generate in bf16, except where bf16 rounding decides a
near-tie (then the two logits HF saw at the first divergence must be within bf16 noise)."""
from __future__ import annotations

import random

import torch
from transformers import AutoModelForCausalLM

from executor.engine import Engine, EngineConfig, Request

BF16_NOISE = 0.25   # logit gap that bf16 accumulation-order differences can flip


def test_bf16_matches_hf_up_to_rounding_ties(model_factory):
    rng = random.Random(0)
    prompts = [[rng.randrange(1, 500) for _ in range(rng.randint(3, 60))] for _ in range(8)]
    _check_against_hf(model_factory("llama"), prompts)


def test_bf16_with_a_shared_prefix_attends_in_cascade(model_factory, monkeypatch):
    """Rows under one long instruction attend over it once (a cascade), merging partial
    results by their float32 log-sum-exps; in bf16 too."""
    path = model_factory("llama")
    rng = random.Random(1)
    shared = [rng.randrange(1, 500) for _ in range(40)]
    prompts = [shared + [rng.randrange(1, 500) for _ in range(rng.randint(3, 20))]
               for _ in range(8)]
    cascades = []
    from executor.engine.model_runner import ModelRunner
    build = ModelRunner._cascades

    def spy(self, chunks, pb, rows_from):
        out = build(self, chunks, pb, rows_from)
        cascades.append(len(pb.cascades))
        return out

    monkeypatch.setattr(ModelRunner, "_cascades", spy)
    _check_against_hf(path, prompts, warm=shared)
    assert max(cascades) >= 1


def _check_against_hf(path, prompts, warm=None):
    engine = Engine(EngineConfig(model=path, dtype="bfloat16", kv_cache_bytes=8 << 20,
                                 block_size=8))
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16).eval()
    if warm is not None:                                 # the shared prefix cached first
        engine.generate([Request(prompt_ids=warm, max_tokens=1)])
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
