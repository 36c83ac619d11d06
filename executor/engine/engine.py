"""The engine: requests in, outputs out, one scheduler iteration at a time.

Each iteration the scheduler picks chunks under the token budget, the model runner computes
them in one packed forward pass, and the engine samples, scores and retires sequences. Outputs
come back in request order; ``on_result`` sees each one as soon as it is complete, so callers
can persist partial progress (the SQL layer's result cache does).
"""
from __future__ import annotations

import itertools
import logging
import time
from typing import Callable

import torch

from . import choices as choice_scoring
from .block_manager import BlockManager
from .config import EngineConfig
from .errors import CancelledError, EngineError
from .eviction import make_eviction_policy
from .model_runner import ModelRunner
from .preemption import make_preemption_policy
from .request import Output, Request
from .requests_prep import PreparedRequest, prepare
from .sampler import sample
from .scheduler import Scheduler, Step
from .sequence import SamplingParams, Sequence, Status
from .stats import EngineStats

log = logging.getLogger(__name__)


class _Pending:
    """One request in flight: its sequences and, for choices, the lead and children."""

    def __init__(self, index: int, req: Request, prep: PreparedRequest, main: Sequence) -> None:
        self.index, self.req, self.prep, self.main = index, req, prep, main
        self.kids: dict[int, Sequence] | None = None
        self.open = 1

    def output(self, tokenizer) -> Output:
        seq = self.main
        cached = max(seq.cached_tokens, 0)
        if self.prep.choice_ids is not None:
            i = choice_scoring.pick(seq, self.kids or {}, self.prep.choice_ids)
            return Output(self.req.choices[i], list(self.prep.choice_ids[i]), "stop",
                          seq.prompt_len, cached)
        text = seq.text if seq.text is not None else tokenizer.decode(seq.output_ids,
                                                                      skip_special_tokens=True)
        return Output(text, list(seq.output_ids), seq.finish_reason, seq.prompt_len, cached)


class Engine:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        eviction = make_eviction_policy(config.eviction)
        preemption = make_preemption_policy(config.preemption)
        self.runner = ModelRunner(config)
        self.tokenizer = self.runner.tokenizer
        self.max_model_len = self.runner.max_model_len
        self.blocks = BlockManager(self.runner.kv.num_blocks, config.block_size, eviction,
                                   config.prefix_caching)
        self.scheduler = Scheduler(self.blocks, preemption, config.max_batch_tokens,
                                   config.max_num_seqs)
        self.stats = EngineStats()
        self._ids = itertools.count()
        self._eos = self._eos_ids()

    @property
    def num_blocks(self) -> int:
        return self.runner.kv.num_blocks

    def _eos_ids(self) -> set[int]:
        ids = set()
        gen = getattr(self.runner.model, "generation_config", None)
        for source in (getattr(gen, "eos_token_id", None), self.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif source:
                ids.update(source)
        return ids

    def reset_stats(self) -> None:
        self.stats.reset()
        self.blocks.peak_blocks = self.blocks.used_blocks

    # ---- public -------------------------------------------------------------------------
    def generate(self, requests: list[Request],
                 progress: Callable[[int, int], None] | None = None,
                 on_result: Callable[[int, Output], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> list[Output]:
        """Run every request to completion; outputs in request order.

        ``progress(done, total)`` is called as requests complete; ``on_result(index, output)``
        as soon as each one is complete; ``should_stop()``, checked every iteration, cancels
        with ``CancelledError``. On any exception (Ctrl-C included) the unfinished work is
        dropped and the engine stays usable; completed results were already reported.
        """
        preps = []
        for i, r in enumerate(requests):
            try:
                preps.append(prepare(i, r, self.tokenizer, self.max_model_len,
                                     self.runner.vocab_size, self.num_blocks, self.config.block_size))
            except EngineError as exc:
                exc.request_index = i       # lets callers name the row at fault
                raise
        arrival = next(self._ids)
        pending = [self._submit(i, r, p, arrival) for i, (r, p) in enumerate(zip(requests, preps))]
        by_seq = {p.main.seq_id: p for p in pending}
        outputs: list[Output | None] = [None] * len(requests)
        done = 0
        started = time.perf_counter()
        evicted_before = self.blocks.evicted_blocks
        self.stats.requests += len(requests)
        self.stats.prompt_tokens += sum(len(p.prompt_ids) for p in preps)
        try:
            while self.scheduler.has_work():
                if should_stop is not None and should_stop():
                    raise CancelledError(f"cancelled with {done} of {len(requests)} requests done")
                finished = self._iterate(by_seq)
                for item in finished:
                    out = item.output(self.tokenizer)
                    outputs[item.index] = out
                    done += 1
                    if on_result is not None:
                        on_result(item.index, out)
                if finished and progress is not None:
                    progress(done, len(requests))
        finally:
            if self.scheduler.has_work():
                self.scheduler.abort_all()
            self.stats.wall_seconds += time.perf_counter() - started
            self.stats.peak_blocks = max(self.stats.peak_blocks, self.blocks.peak_blocks)
            self.stats.evicted_blocks += self.blocks.evicted_blocks - evicted_before
        return outputs

    def _submit(self, index: int, req: Request, prep: PreparedRequest, arrival: int) -> _Pending:
        sid = next(self._ids)
        order = (arrival, index)    # requests keep their submitted order across generate() calls
        if prep.choice_ids is not None:
            seq = choice_scoring.lead(sid, index, order, prep.prompt_ids, prep.choice_ids)
        else:
            gen = None
            if req.temperature > 0:
                gen = torch.Generator().manual_seed(
                    req.seed if req.seed is not None else torch.seed())
            params = SamplingParams(req.max_tokens, float(req.temperature), float(req.top_p),
                                    gen, tuple(req.stop), req.ignore_eos)
            seq = Sequence(sid, index, order, list(prep.prompt_ids), len(prep.prompt_ids), params)
        self.scheduler.add(seq)
        return _Pending(index, req, prep, seq)

    # ---- one iteration ------------------------------------------------------------------
    def _iterate(self, by_seq: dict[int, _Pending]) -> list[_Pending]:
        step = self.scheduler.schedule()
        if not step.chunks:
            raise RuntimeError("scheduler made no progress; this is an engine bug")
        for src, dst, n in step.copies:
            self.runner.copy_slots(src, dst, n)
        self._count_admissions(step)
        logits = self.runner.forward(step.chunks)
        self.blocks.end_iteration()
        self.stats.iterations += 1
        finished: list[_Pending] = []
        to_sample: list[tuple[Sequence, int]] = []
        row = 0
        for chunk in step.chunks:
            seq = chunk.seq
            positions = seq.logit_positions(chunk.start, chunk.end)
            self._count_chunk(seq, chunk.start, chunk.end)
            seq.num_computed = chunk.end
            if seq.is_scoring:
                choice_scoring.record(seq, logits[row:row + len(positions)], positions)
                if chunk.end == seq.num_tokens:
                    self._retire(seq, by_seq, finished)
            elif positions:
                to_sample.append((seq, row))
            row += len(positions)
        if to_sample:
            rows = logits[[r for _, r in to_sample]]
            tokens = sample(rows, [s.params for s, _ in to_sample])
            for (seq, _), token in zip(to_sample, tokens):
                self._append(seq, token, by_seq, finished)
        return finished

    def _count_admissions(self, step: Step) -> None:
        self.stats.preemptions += len(step.preempted)
        for seq, cached in step.admitted:
            if seq.cached_tokens < 0:
                seq.cached_tokens = min(cached, seq.prompt_len)
                # A choice's child re-reads its request's prompt; prompt_tokens counted that
                # prompt once, so cached_tokens does too.
                if not (seq.is_scoring and seq.score_start >= seq.prompt_len):
                    self.stats.cached_tokens += seq.cached_tokens

    def _count_chunk(self, seq: Sequence, start: int, end: int) -> None:
        decoding = end - start == 1 and start >= max(seq.prompt_len, seq.recompute_until)
        if not decoding:
            self.stats.prefilled_tokens += end - start
            self.stats.recomputed_tokens += max(0, min(end, seq.recompute_until) - start)

    def _append(self, seq: Sequence, token: int, by_seq, finished) -> None:
        seq.token_ids.append(token)
        self.stats.decoded_tokens += 1
        p = seq.params
        reason = None
        if token in self._eos and not p.ignore_eos:
            reason = "stop"
        elif p.stop and self._hit_stop(seq):
            reason = "stop"
        elif len(seq.output_ids) >= p.max_tokens or seq.num_tokens >= self.max_model_len:
            reason = "length"
        if reason:
            seq.finish_reason = reason
            self._retire(seq, by_seq, finished)

    def _hit_stop(self, seq: Sequence) -> bool:
        text = self.tokenizer.decode(seq.output_ids, skip_special_tokens=True)
        cuts = [text.find(s) for s in seq.params.stop if s in text]
        if not cuts:
            return False
        seq.text = text[:min(cuts)]
        return True

    def _retire(self, seq: Sequence, by_seq: dict[int, _Pending], finished: list) -> None:
        self.scheduler.finish(seq)
        item = by_seq.pop(seq.seq_id)
        item.open -= 1
        if seq is item.main and item.prep.choice_ids is not None:
            item.kids = choice_scoring.children(self._ids, seq, item.prep.choice_ids)
            for kid in item.kids.values():
                by_seq[kid.seq_id] = item
                self.scheduler.add(kid)
            item.open += len(item.kids)
        if item.open == 0:
            finished.append(item)
