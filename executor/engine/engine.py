"""The engine: requests in, outputs out, one ``step()`` at a time.

A step is one iteration, in three parts (nano-vllm's shape): the scheduler picks chunks under
the token budget (``_schedule``); the model runner carries out the cache moves and computes the
chunks in one packed forward pass (``_run``); the postprocessor scores, samples, applies the
finishing rules and retires sequences (``postprocess.py``). ``generate`` submits requests and
loops over ``step``. Outputs come back in request order; ``on_result`` sees each one as soon as
it is complete, so callers can persist partial progress (the SQL layer's result cache does).

The engine holds a cost model (``cost_model.py``; the caller passes the calibrated one, else a
default from the parameter count): the ``cost`` preemption policy, the decode batch cap and
retention's T* read it. ``trace``, when set to a list, receives one ``IterationRecord`` per
step (its shape and seconds by ``trace_clock``): ``infersql calibrate`` fits on it.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import time
from typing import Callable

import torch

from .compute_thread import on_compute_thread
from .config import EngineConfig
from .cost_model import CostModel, IterationShape, default_cost_model
from .errors import CancelledError
from .grammar import Grammars
from .inflight import InFlightRequest, first_sequence
from .model_runner import ModelRunner
from .postprocess import Postprocessor, eos_token_ids
from .request import Output, Request
from .requests_prep import PreparedRequest, encode_prompt, prepare_all
from .scheduler import Step, make_scheduler
from .stats import EngineStats
from .timeline import IterationRecord


class Engine:
    """One model, its paged KV pool and its scheduler; ``generate`` runs requests to the end."""

    def __init__(self, config: EngineConfig, cost_model: CostModel | None = None) -> None:
        on_compute_thread(self._load, config, cost_model)      # see compute_thread.py

    def _load(self, config: EngineConfig, cost_model: CostModel | None) -> None:
        self.config = config
        self.runner = ModelRunner(config)
        self.tokenizer = self.runner.tokenizer
        self.max_model_len = self.runner.max_model_len
        dtype = str(self.runner.dtype).removeprefix("torch.")
        self.cost_model = cost_model or default_cost_model(self.runner.geometry, config.device,
                                                           dtype, config.block_size)
        self.scheduler = make_scheduler(config, self.runner.kv.num_blocks,
                                        self.runner.kv.bytes_per_block, self.cost_model)
        self.blocks = self.scheduler.blocks
        self.stats = EngineStats()
        self.trace: list[IterationRecord] | None = None
        self.trace_repeats = 1
        self.trace_clock = time.perf_counter   # time.process_time: CPU seconds, for a busy machine
        self._ids = itertools.count()          # generate calls' arrivals and sequence ids
        eos = eos_token_ids(self.runner.model, self.tokenizer)
        self.grammars = Grammars(self.tokenizer, self.runner.vocab_size, eos, config.jump_forward)
        self.postprocessor = Postprocessor(self.scheduler, self.tokenizer, eos, self.max_model_len,
                                           self.stats, self._ids, self.grammars)
        if config.compile:
            self._compile_now()

    def _compile_now(self) -> None:
        """Compile at load, not in the first query: a prefill of two prompts, then decodes of
        two sequences and of one (torch.compile treats a dimension of 1 apart)."""
        n = max(4, min(24, self.max_model_len // 4))
        prompts = [[1 + i % 7 for i in range(n)], [2 + i % 5 for i in range(n - 2)]]
        never = lambda: False                                    # noqa: E731
        self._generate([Request(prompt_ids=p, max_tokens=3, ignore_eos=True) for p in prompts],
                       None, None, never, None)
        self._generate([Request(prompt_ids=[3, 4, 5, 6], max_tokens=3, ignore_eos=True)],
                       None, None, never, None)
        self.reset_stats()

    @property
    def num_blocks(self) -> int:
        return self.runner.kv.num_blocks

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

        ``progress(done, total)`` is called after every step (tokens move between rows even
        when none completes); ``on_result(index, output)`` as soon as each one is complete;
        ``should_stop()``, checked every step, cancels with ``CancelledError``. On any
        exception (Ctrl-C included) the unfinished work is dropped and the engine stays usable;
        completed results were already reported. ``future`` lists requests that later calls
        will submit, in order: the ``belady`` eviction policy keeps the blocks they will read.
        It runs on the process's compute thread (``compute_thread.py``), and so do the
        callbacks; a Ctrl-C in the calling thread cancels it there.
        """
        interrupted = threading.Event()

        def stop() -> bool:
            return interrupted.is_set() or (should_stop is not None and should_stop())

        return on_compute_thread(self._generate, requests, progress, on_result, stop, future,
                                 interrupted=interrupted)

    def _generate(self, requests: list[Request], progress, on_result, should_stop,
                  future) -> list[Output]:
        preps = prepare_all(requests, self.tokenizer, self.max_model_len, self.runner.vocab_size,
                            self.num_blocks, self.config.block_size, self.grammars)
        self._plan_ahead(future)
        self._submit(requests, preps)
        outputs: list[Output | None] = [None] * len(requests)
        done = 0
        with self._accounted(preps):
            while self.scheduler.has_work():
                if should_stop is not None and should_stop():
                    raise CancelledError(f"cancelled with {done} of {len(requests)} requests done")
                for index, out in self.step():
                    outputs[index] = out
                    done += 1
                    if on_result is not None:
                        on_result(index, out)
                if progress is not None:
                    progress(done, len(requests))
        return outputs

    def step(self) -> list[tuple[int, Output]]:
        """One iteration: schedule, run, postprocess. Returns the requests it completed, as
        (index in their ``generate`` call, output). Call it while the scheduler has work."""
        started = self.trace_clock()
        scheduled = self._schedule()
        shape = self._trace_shape(scheduled)
        logits, repeat_seconds = self._run(scheduled)
        finished = self.postprocessor.postprocess(scheduled, logits)
        if shape is not None:
            seconds = self.trace_clock() - started - repeat_seconds
            self.trace.append(IterationRecord(started, seconds, shape))
        return [(item.index, item.output(self.tokenizer)) for item in finished]

    # ---- before the steps ---------------------------------------------------------------
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

    def _submit(self, requests: list[Request], preps: list[PreparedRequest]) -> None:
        """Queue each request's first sequence; requests keep their submitted order across
        ``generate`` calls, as (arrival, index)."""
        arrival = next(self._ids)
        for index, (req, prep) in enumerate(zip(requests, preps)):
            seq = first_sequence(next(self._ids), index, (arrival, index), req, prep)
            self.scheduler.add(seq)
            self.postprocessor.track(InFlightRequest(index, req, prep, seq))

    @contextlib.contextmanager
    def _accounted(self, preps: list[PreparedRequest]):
        """Count a ``generate`` call's requests, wall time, peak and evicted blocks; on any
        exception drop the unfinished work, so the engine stays usable."""
        started = time.perf_counter()
        evicted_before = self.blocks.evicted_blocks
        self.stats.requests += len(preps)
        self.stats.prompt_tokens += sum(len(p.prompt_ids) for p in preps)
        try:
            yield
        finally:
            if self.scheduler.has_work():
                self.scheduler.abort_all()
                self.runner.swapped.clear()
                self.postprocessor.drop_all()
            self.stats.wall_seconds += time.perf_counter() - started
            self.stats.peak_blocks = max(self.stats.peak_blocks, self.blocks.peak_blocks)
            self.stats.evicted_blocks += self.blocks.evicted_blocks - evicted_before

    # ---- one step -----------------------------------------------------------------------
    def _schedule(self) -> Step:
        self.blocks.clock = time.monotonic()
        step = self.scheduler.schedule()
        self.stats.count_step(step)
        return step

    def _trace_shape(self, step: Step) -> IterationShape | None:
        """The step's shape when tracing, else None. Taken before postprocessing, which appends
        tokens and so changes which positions a chunk reads logits from."""
        return None if self.trace is None else IterationShape.of(step.chunks, step.swap_blocks)

    def _run(self, step: Step) -> tuple[torch.Tensor, float]:
        """The step's cache moves and forward pass: logits for every requested position, and
        the seconds of extra forward runs to leave out of a traced step. With ``trace_repeats``
        > 1 (calibration on a shared, noisy machine) the pass runs that many times and all but
        the fastest run count as extra. Repeating is harmless: each run writes the same K/V
        into the same slots and returns the same logits."""
        self.runner.move_blocks(step)
        repeats = self.trace_repeats if self.trace is not None else 1
        times = []
        for _ in range(repeats):
            t = self.trace_clock()
            logits = self.runner.forward(step.chunks)
            times.append(self.trace_clock() - t)
        self.blocks.end_iteration()
        return logits, sum(times) - min(times)
