"""After each forward pass: score, sample, apply the finishing rules, retire finished sequences.

This is the engine's half of an iteration that follows the model (nano-vllm's
``scheduler.postprocess``). Each chunk's tokens count as computed; a scoring sequence records
its choices' log-probabilities from its logits rows; every other sequence whose chunk reached
its last token samples the next one. A sequence finishes on EOS (unless ``ignore_eos``), on a
stop string (its text is cut before it), or at ``max_tokens`` or the model's context; a scoring
sequence finishes once its last position is scored. A finished sequence releases its blocks to
the cache, a finished choice lead starts its children, and a request is complete when all of
its sequences are.

Sampling is one method, ``_sample``: the rows of sequences with a grammar (a request's
``json_schema``) are masked there before the tokens are drawn; each sampled token is then fed
to its sequence's matcher, the text the grammar forces next is appended as tokens to compute in
the next iteration's chunk (jump-forward), and a grammar that is done finishes the sequence.
"""
from __future__ import annotations

import torch

from . import choices as choice_scoring
from .grammar import Grammars
from .inflight import InFlightRequest
from .sampler import sample
from .scheduler import Scheduler, Step
from .sequence import Sequence
from .stats import EngineStats


def eos_token_ids(model, tokenizer) -> set[int]:
    """Every id that ends a generation: the model's generation config's and the tokenizer's."""
    ids = set()
    gen = getattr(model, "generation_config", None)
    for source in (getattr(gen, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(source, int):
            ids.add(source)
        elif source:
            ids.update(source)
    return ids


class Postprocessor:
    """Owns the requests in flight (``track``), keyed by the id of each open sequence."""

    def __init__(self, scheduler: Scheduler, tokenizer, eos: set[int], max_model_len: int,
                 stats: EngineStats, next_id, grammars: Grammars) -> None:
        self.scheduler, self.tokenizer, self.stats = scheduler, tokenizer, stats
        self.eos, self.max_model_len, self.grammars = eos, max_model_len, grammars
        self.next_id = next_id          # the engine's id counter, for choice children
        self.requests: dict[int, InFlightRequest] = {}

    def track(self, item: InFlightRequest) -> None:
        self.requests[item.main.seq_id] = item

    def drop_all(self) -> None:
        """Forget every request in flight (the scheduler dropped their sequences)."""
        self.requests.clear()

    def postprocess(self, step: Step, logits: torch.Tensor) -> list[InFlightRequest]:
        """Advance every sequence of ``step`` by its chunk and its logits rows (in chunk order,
        ``Sequence.logit_positions`` each); returns the requests this step completed."""
        finished: list[InFlightRequest] = []
        sampling = self._score_and_collect(step, logits, finished)
        if sampling:
            tokens = self._sample(logits, sampling)
            for (seq, _), token in zip(sampling, tokens):
                self._append(seq, token, finished)
        return finished

    def _score_and_collect(self, step: Step, logits: torch.Tensor,
                           finished: list) -> list[tuple[Sequence, int]]:
        """Mark each chunk computed and let scoring sequences record their log-probabilities
        (retiring those done); returns (sequence, logits row) for each one that samples."""
        sampling: list[tuple[Sequence, int]] = []
        row = 0
        for chunk in step.chunks:
            seq = chunk.seq
            positions = seq.logit_positions(chunk.start, chunk.end)
            self.stats.count_chunk(seq, chunk.start, chunk.end)
            seq.num_computed = chunk.end
            if seq.is_scoring:
                choice_scoring.record(seq, logits[row:row + len(positions)], positions)
                if chunk.end == seq.num_tokens:
                    self._retire(seq, finished)
            elif positions:
                sampling.append((seq, row))
            row += len(positions)
        return sampling

    def _sample(self, logits: torch.Tensor, sampling: list[tuple[Sequence, int]]) -> list[int]:
        """The next token of each sampling sequence, from its row of ``logits``: the one place
        where tokens are chosen, so the rows of sequences with a grammar are masked here (the
        whole batch's masks in one library call) before greedy or temperature sampling."""
        rows = logits[[row for _, row in sampling]]
        self.grammars.mask(rows, [seq.matcher for seq, _ in sampling],
                           [seq.params.temperature == 0 for seq, _ in sampling])
        return sample(rows, [seq.params for seq, _ in sampling])

    def _append(self, seq: Sequence, token: int, finished: list) -> None:
        seq.token_ids.append(token)
        self.stats.decoded_tokens += 1
        if seq.matcher is not None:
            if not seq.matcher.accept_token(token):
                raise RuntimeError(f"the grammar rejected its own masked token {token}; engine bug")
            self._jump_forward(seq)
        seq.finish_reason = self._finish_reason(seq, token)
        if seq.finish_reason:
            self._retire(seq, finished)

    def _jump_forward(self, seq: Sequence) -> None:
        """Append the tokens the grammar forces next, within the sequence's budgets; they are
        computed with the next iteration's chunk, and only then is a token sampled again."""
        room = min(seq.params.max_tokens - len(seq.output_ids), self.max_model_len - seq.num_tokens)
        forced = self.grammars.forced_tokens(seq.matcher, room)
        seq.token_ids.extend(forced)
        seq.forced_tokens += len(forced)
        self.stats.forced_tokens += len(forced)

    def _finish_reason(self, seq: Sequence, token: int) -> str | None:
        """``"stop"`` (EOS, a stop string, or a grammar that is done), ``"length"``, or None to go
        on decoding."""
        p = seq.params
        if token in self.eos and not p.ignore_eos:
            return "stop"
        if seq.matcher is not None and self.grammars.finished(seq.matcher):
            return "stop"
        if p.stop and self._hit_stop(seq):
            return "stop"
        if len(seq.output_ids) >= p.max_tokens or seq.num_tokens >= self.max_model_len:
            return "length"
        return None

    def _hit_stop(self, seq: Sequence) -> bool:
        """Whether the decoded text holds a stop string; if so ``seq.text`` is cut before the
        first one."""
        text = self.tokenizer.decode(seq.output_ids, skip_special_tokens=True)
        cuts = [text.find(s) for s in seq.params.stop if s in text]
        if not cuts:
            return False
        seq.text = text[:min(cuts)]
        return True

    def _retire(self, seq: Sequence, finished: list) -> None:
        """``seq`` is done: its blocks go back to the cache, the sequences its request runs
        next (a choice lead's children) are queued, and a complete request is ``finished``."""
        self.scheduler.finish(seq)
        item = self.requests.pop(seq.seq_id)
        for kid in item.sequence_done(seq, self.next_id):
            self.requests[kid.seq_id] = item
            self.scheduler.add(kid)
        if item.complete:
            finished.append(item)
