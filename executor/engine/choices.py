"""Constrained decoding to a fixed set of answers, scored on all of their tokens.

The answer is the choice with the highest total log-probability log p(c_0..c_k | prompt). A
*lead* scoring sequence prefills the prompt once and reads log p(c_0) for every choice from one
set of logits: for yes/no and single-token labels that is the whole job, one forward pass. Each
multi-token choice then gets a *child* sequence, prompt + its tokens, that starts after the
lead so the prompt's blocks come from the prefix cache; it adds log p(c_1..c_k).

The children are queued at their lead's place in the order, ahead of every later request, and
the eviction policy is told they will read the prompt, its partial last block included, so at
a small cache the prompt is still resident when they run (``belady``'s stems). The simulator
builds the same sequences (torch is imported only to score).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .sequence import SamplingParams, Sequence

if TYPE_CHECKING:
    import torch


def lead(seq_id: int, index: int, arrival: tuple[int, int], prompt: list[int],
         choice_ids: list[list[int]]) -> Sequence:
    firsts = sorted({c[0] for c in choice_ids})
    return Sequence(seq_id, index, arrival, list(prompt), len(prompt), SamplingParams(1),
                    score_start=len(prompt) - 1, score_targets=[firsts])


def is_lead(seq: Sequence) -> bool:
    """Whether ``seq`` is a choice lead (it scores the prompt's last position), not a child."""
    return seq.is_scoring and seq.score_start < seq.prompt_len


def children(next_id, lead_seq: Sequence, choice_ids: list[list[int]]) -> dict[int, Sequence]:
    """One child per multi-token choice, keyed by the choice's position in the list."""
    prompt = lead_seq.token_ids[:lead_seq.prompt_len]
    out = {}
    for i, c in enumerate(choice_ids):
        if len(c) > 1:
            out[i] = Sequence(next(next_id), lead_seq.request_index, lead_seq.arrival,
                              prompt + c[:-1], len(prompt), SamplingParams(1),
                              score_start=len(prompt), score_targets=[[t] for t in c[1:]],
                              accounted=len(prompt))
    return out


def record(seq: Sequence, logits: torch.Tensor, positions: list[int]) -> None:
    """Store the log-probabilities of ``seq``'s targets at ``positions`` (rows of logits)."""
    import torch

    logprobs = torch.log_softmax(logits, dim=-1)
    for row, pos in enumerate(positions):
        targets = seq.score_targets[pos - seq.score_start]
        seq.scores.append(logprobs[row, targets].tolist())


def pick(lead_seq: Sequence, kids: dict[int, Sequence], choice_ids: list[list[int]]) -> int:
    """Index of the most likely choice; ties go to the earlier choice."""
    firsts = lead_seq.score_targets[0]
    first_lp = dict(zip(firsts, lead_seq.scores[0]))
    totals = []
    for i, c in enumerate(choice_ids):
        total = first_lp[c[0]]
        if i in kids:
            total += sum(s[0] for s in kids[i].scores)
        totals.append(total)
    return max(range(len(totals)), key=lambda i: (totals[i], -i))
