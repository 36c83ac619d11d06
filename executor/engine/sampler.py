"""Next-token choice: greedy by default; temperature and nucleus (top-p) with a per-request seed.

Each request draws from its own ``torch.Generator``, so a seeded request gets the same tokens
whatever else shares its batch.
"""
from __future__ import annotations

import torch

from .sequence import SamplingParams


def sample(logits: torch.Tensor, params: list[SamplingParams]) -> list[int]:
    """logits [N, vocab] float32, one row per sequence -> one token id per row."""
    if not len(params):
        return []
    tokens = logits.argmax(dim=-1).tolist()
    for i, p in enumerate(params):
        if p.temperature > 0:
            tokens[i] = _draw(logits[i], p)
    return tokens


def _draw(row: torch.Tensor, p: SamplingParams) -> int:
    probs = torch.softmax(row / p.temperature, dim=-1)
    if p.top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        cumulative = sorted_probs.cumsum(-1)
        keep = cumulative - sorted_probs < p.top_p      # always keeps the most likely token
        sorted_probs = torch.where(keep, sorted_probs, torch.zeros_like(sorted_probs))
        probs = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=p.generator).item())
