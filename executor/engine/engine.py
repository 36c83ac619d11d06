"""The engine: requests in, outputs out, one scheduler iteration at a time.

Each iteration the scheduler picks chunks under the token budget, the model runner computes
them in one packed forward pass, and the engine samples, scores and retires sequences. Outputs
come back in request order; ``on_result`` sees each one as soon as it is complete, so callers
can persist partial progress (the SQL layer's result cache does).

The engine holds a cost model (``cost_model.py``; the caller passes the calibrated one, else a
default from the parameter count): the ``cost`` preemption policy, the decode batch cap and
retention's T* read it. ``trace``, when set to a list, receives one ``IterationRecord`` per
iteration (its shape and seconds by ``trace_clock``): ``infersql calibrate`` fits on it.
"""
from __future__ import annotations

import itertools
import logging
import time
from typing import Callable

import torch

from . import choices as choice_scoring
from .config import EngineConfig
from .cost_model import CostModel, IterationShape, default_cost_model
from .errors import CancelledError, EngineError
from .geometry import geometry_of
from .model_runner import ModelRunner
from .request import Output, Request
from .requests_prep import PreparedRequest, encode_prompt, prepare
from .sampler import sample
from .scheduler import make_scheduler
from .sequence import SamplingParams, Sequence
from .stats import EngineStats
from .timeline import IterationRecord

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
    def __init__(self, config: EngineConfig, cost_model: CostModel | None = None) -> None:
        self.config = config
        self.runner = ModelRunner(config)
        self.tokenizer = self.runner.tokenizer
        self.max_model_len = self.runner.max_model_len
        dtype = str(self.runner.dtype).removeprefix("torch.")
        self.cost_model = cost_model or default_cost_model(
            geometry_of(self.runner.hf_config.get_text_config()), config.device, dtype,
            config.block_size)
        self.scheduler = make_scheduler(config, self.runner.kv.num_blocks,
                                        self.runner.kv.bytes_per_block, self.cost_model)
        self.blocks = self.scheduler.blocks
        self.stats = EngineStats()
        self.trace: list[IterationRecord] | None = None
        self.trace_repeats = 1
        self.trace_clock = time.perf_counter   # time.process_time: CPU seconds, for a busy machine
        self._host: dict[int, object] = {}      # swapped-out K/V by sequence id
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

    @property
    def break_even_seconds(self) -> float:
        """T*: how long a cached block is worth keeping idle (see ``CostModel``)."""
        return self.cost_model.break_even_seconds(self.config.block_size, self.num_blocks)

    def reset_stats(self) -> None:
        self.stats.reset()
        self.blocks.peak_blocks = self.blocks.used_blocks

    # ---- public -------------------------------------------------------------------------
    def generate(self, requests: list[Request],
                 progress: Callable[[int, int], None] | None = None,
                 on_result: Callable[[int, Output], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 future: list[Request] | None = None) -> list[Output]:
        """Run every request to completion; outputs in request order.

        ``progress(done, total)`` is called as requests complete; ``on_result(index, output)``
        as soon as each one is complete; ``should_stop()``, checked every iteration, cancels
        with ``CancelledError``. On any exception (Ctrl-C included) the unfinished work is
        dropped and the engine stays usable; completed results were already reported.
        ``future`` lists requests that later calls will submit, in order: the ``belady``
        eviction policy keeps the blocks they will read.
        """
        preps = []
        for i, r in enumerate(requests):
            try:
                preps.append(prepare(i, r, self.tokenizer, self.max_model_len,
                                     self.runner.vocab_size, self.num_blocks, self.config.block_size))
            except EngineError as exc:
                exc.request_index = i       # lets callers name the row at fault
                raise
        self._plan_ahead(future)
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
                if progress is not None:      # every iteration: tokens move between rows
                    progress(done, len(requests))
        finally:
            if self.scheduler.has_work():
                self.scheduler.abort_all()
                self._host.clear()
            self.stats.wall_seconds += time.perf_counter() - started
            self.stats.peak_blocks = max(self.stats.peak_blocks, self.blocks.peak_blocks)
            self.stats.evicted_blocks += self.blocks.evicted_blocks - evicted_before
        return outputs

    def _plan_ahead(self, future: list[Request] | None) -> None:
        """Tell the eviction policy what comes after this call, and apply retention."""
        self.blocks.clock = time.monotonic()
        if self.config.retention == "t_star":
            self.blocks.expire(self.break_even_seconds)
        if not self.blocks.eviction.uses_future:
            return
        prompts = []
        for r in future or ():
            if r.prompt_ids is not None:
                prompts.append(list(r.prompt_ids))
            elif isinstance(r.prompt, str) and r.prompt:
                prompts.append(encode_prompt(self.tokenizer, r.prompt, r.chat))
        self.blocks.eviction.set_future(prompts)

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
        clock = self.trace_clock
        started = clock()
        self.blocks.clock = time.monotonic()
        step = self.scheduler.schedule()
        if not step.chunks:
            raise RuntimeError("scheduler made no progress; this is an engine bug")
        kv = self.runner.kv
        for seq, block_ids in step.swap_out:      # before anything overwrites those blocks
            self._host[seq.seq_id] = kv.swap_out(block_ids)
        for seq, block_ids, first in step.swap_in:
            kv.swap_in(self._host.pop(seq.seq_id), block_ids, first)
        for src, dst, n in step.copies:
            self.runner.copy_slots(src, dst, n)
        self.stats.count_step(step)
        shape = IterationShape.of(step.chunks, step.swap_blocks) if self.trace is not None else None
        logits, extra = self._forward(step)
        self.blocks.end_iteration()
        finished: list[_Pending] = []
        to_sample: list[tuple[Sequence, int]] = []
        row = 0
        for chunk in step.chunks:
            seq = chunk.seq
            positions = seq.logit_positions(chunk.start, chunk.end)
            self.stats.count_chunk(seq, chunk.start, chunk.end)
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
        if shape is not None:
            self.trace.append(IterationRecord(started, clock() - started - extra, shape))
        return finished

    def _forward(self, step):
        """The step's forward pass; with ``trace_repeats`` > 1 (calibration on a shared,
        noisy machine) it runs that many times and the slower runs' excess is returned, to be
        left out of the iteration's time. Repeating is harmless: each run writes the same K/V
        into the same slots and returns the same logits."""
        if self.trace is None or self.trace_repeats <= 1:
            return self.runner.forward(step.chunks), 0.0
        times = []
        for _ in range(self.trace_repeats):
            t = self.trace_clock()
            logits = self.runner.forward(step.chunks)
            times.append(self.trace_clock() - t)
        return logits, sum(times) - min(times)

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
