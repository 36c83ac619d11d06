"""The correctness oracle: what transformers' own ``generate(do_sample=False)`` produces."""
from __future__ import annotations

import functools

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


@functools.lru_cache(maxsize=8)
def load(path: str):
    """A model folder, or a GGUF file through transformers' own GGUF loading (AutoTokenizer
    too, not the engine's shortcut to the same tokenizer)."""
    from executor.engine.gguf_model import pretrained_source

    folder, source = pretrained_source(path)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **source).eval()
    return AutoTokenizer.from_pretrained(folder, **source), model


def greedy(path: str, prompt_ids: list[int], max_new_tokens: int,
           logits_processor=None) -> list[int]:
    """Token ids that HF greedy decoding appends to ``prompt_ids`` (EOS included, as generate);
    ``logits_processor`` (a list) constrains it, e.g. xgrammar's HF processor."""
    _, model = load(path)
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt_ids]), max_new_tokens=max_new_tokens,
                             do_sample=False, attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                             logits_processor=logits_processor)
    return out[0, len(prompt_ids):].tolist()


def sequence_logprob(path: str, prompt_ids: list[int], continuation: list[int]) -> float:
    """log p(continuation | prompt) under the HF model, by one full forward pass."""
    _, model = load(path)
    ids = torch.tensor([prompt_ids + continuation])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
    start = len(prompt_ids) - 1
    return sum(logprobs[start + i, t].item() for i, t in enumerate(continuation))
