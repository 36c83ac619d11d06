"""A request between ``generate`` taking it and its output: its sequences and how many are open.

A plain request runs as one sequence. A request with ``choices`` runs as a scoring *lead* and,
once the lead has scored every choice's first token, one child per multi-token choice
(``choices.py``); it is complete when all of them are.
"""
from __future__ import annotations

import torch

from . import choices as choice_scoring
from .request import Output, Request
from .requests_prep import PreparedRequest
from .sequence import SamplingParams, Sequence


def first_sequence(seq_id: int, index: int, order: tuple[int, int], req: Request,
                   prep: PreparedRequest) -> Sequence:
    """The sequence a request starts as: a choice lead, or one that samples with the request's
    own generator (seeded, so its tokens do not depend on what shares its batch) and, with a
    schema, its own grammar matcher."""
    if prep.choice_ids is not None:
        return choice_scoring.lead(seq_id, index, order, prep.prompt_ids, prep.choice_ids)
    gen = None
    if req.temperature > 0:
        gen = torch.Generator().manual_seed(req.seed if req.seed is not None else torch.seed())
    params = SamplingParams(req.max_tokens, float(req.temperature), float(req.top_p), gen,
                            tuple(req.stop), req.ignore_eos)
    matcher = prep.grammar.matcher() if prep.grammar is not None else None
    return Sequence(seq_id, index, order, list(prep.prompt_ids), len(prep.prompt_ids), params,
                    matcher=matcher)


class InFlightRequest:
    """``index`` is the request's place in its ``generate`` call; ``main`` its first sequence."""

    def __init__(self, index: int, req: Request, prep: PreparedRequest, main: Sequence) -> None:
        self.index, self.req, self.prep, self.main = index, req, prep, main
        self.kids: dict[int, Sequence] = {}
        self.open = 1

    def sequence_done(self, seq: Sequence, next_id) -> list[Sequence]:
        """Count ``seq`` as finished; returns the sequences the request must run next: a choice
        lead's children, ids drawn from ``next_id``."""
        self.open -= 1
        if seq is self.main and self.prep.choice_ids is not None:
            self.kids = choice_scoring.children(next_id, seq, self.prep.choice_ids)
            self.open += len(self.kids)
            return list(self.kids.values())
        return []

    @property
    def complete(self) -> bool:
        return self.open == 0

    def output(self, tokenizer) -> Output:
        seq = self.main
        cached = max(seq.cached_tokens, 0)
        if self.prep.choice_ids is not None:
            i = choice_scoring.pick(seq, self.kids, self.prep.choice_ids)
            return Output(self.req.choices[i], list(self.prep.choice_ids[i]), "stop",
                          seq.prompt_len, cached)
        text = seq.text if seq.text is not None else tokenizer.decode(seq.output_ids,
                                                                      skip_special_tokens=True)
        if self.prep.grammar is not None and text.startswith(" "):
            text = text[1:]        # the grammar's one optional leading space: the document alone
        return Output(text, list(seq.output_ids), seq.finish_reason, seq.prompt_len, cached,
                      seq.forced_tokens)
