"""One ``generate`` call on the pool: route, dispatch, stream back, steal, re-plan.

The requests arrive in trie order. ``route`` cuts them into one share per live worker (whole
subtrees, balanced by the cost model); each share goes into that worker's queue
(``WorkQueues``). Each worker keeps ``IN_FLIGHT`` batches queued at its actor, so its engine
never waits for the driver between them, and each finished request is handed to
``on_result`` as its worker reports it. A worker that dies (killed, out of memory, its node
gone) loses only its unfinished requests: those of its batches in flight and its queue,
routed again over the survivors. If none survives, the call fails and what finished stays
reported. ``should_stop`` is read at least every ``WAIT`` seconds; stopping, or any error,
cancels the operator on every worker.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import ray
from ray import exceptions as rx

from executor.engine.errors import CancelledError, EngineError
from executor.engine.routing import route

from .work_queues import Piece, WorkQueues

IN_FLIGHT = 2            # batches queued at each actor
WAIT = 0.1               # seconds between checks of should_stop while waiting for workers
GRAIN = 8                # a batch is about 1/GRAIN of a worker's share ...
MIN_BATCH = 16           # ... but no fewer requests than this (nor more than max_num_seqs)
LOST = (rx.RayActorError, rx.WorkerCrashedError, rx.NodeDiedError, rx.ObjectLostError,
        rx.OutOfMemoryError, rx.LocalRayletDiedError)


class WorkersLostError(EngineError):
    """Every worker of the pool died during one call."""


@dataclass
class Call:
    """One batch at one worker: a streaming generator, or one reference under Ray Client."""

    slot: object                      # pool.Slot
    indexes: list[int]
    handle: object
    streaming: bool


@dataclass
class RunReport:
    """What the call did beyond the engines' counters."""

    steals: int = 0                   # pieces a worker took from another's queue
    replanned: int = 0                # requests routed again after a worker was lost
    lost: list[str] = field(default_factory=list)


class OperatorRun:
    def __init__(self, pool, epoch: int, box, ids: list[list[int]], decodes: list[int],
                 later: list[list[int]], progress: Callable | None, on_result: Callable | None,
                 should_stop: Callable | None) -> None:
        self.pool, self.epoch, self.box = pool, epoch, box
        self.ids, self.decodes = ids, decodes
        self.progress, self.on_result, self.should_stop = progress, on_result, should_stop
        self.outputs: list = [None] * len(ids)
        self.done = 0
        self.calls: list[Call] = []
        self.queues = WorkQueues()
        self.report = RunReport()
        alive = pool.alive()
        share = math.ceil(len(ids) / (len(alive) * GRAIN))
        self.batch = max(MIN_BATCH, min(pool.config.max_num_seqs, share))
        self.window = IN_FLIGHT * 2 * self.batch      # how far ahead a worker is told
        self.later = self._later_shares(later, alive)
        self._route(range(len(ids)), alive)

    # ---- the loop ------------------------------------------------------------------------
    def run(self) -> list:
        try:
            self._fill()
            while self.done < len(self.outputs):
                if self.should_stop is not None and self.should_stop():
                    raise CancelledError(f"cancelled with {self.done} of {len(self.outputs)} "
                                         "requests done")
                if not self.calls:
                    raise EngineError(f"scale-out: {len(self.outputs) - self.done} requests "
                                      "left with no worker running them")
                ready, _ = ray.wait([c.handle for c in self.calls], num_returns=1, timeout=WAIT)
                for handle in ready:
                    # == not is: under Ray Client, wait hands back new reference objects
                    call = next((c for c in self.calls if c.handle == handle), None)
                    if call is not None:          # a loss earlier in this loop may have ended it
                        self._receive(call)
                self._fill()
        finally:
            self.report.steals = self.queues.steals
            if self.done < len(self.outputs):
                self._cancel()
        return self.outputs

    def _fill(self) -> None:
        """Keep ``IN_FLIGHT`` batches at every live worker while any work is queued."""
        for slot in self.pool.alive():
            while sum(c.slot is slot for c in self.calls) < IN_FLIGHT:
                batch = self.queues.take(slot.index, self.batch)
                if not batch:
                    break
                self._dispatch(slot, batch)

    def _dispatch(self, slot, batch: list[int]) -> None:
        upcoming = self.queues.upcoming(slot.index, self.window)
        later = self.later.get(slot.index, [])[:self.window]
        args = (self.epoch, [self.box], batch, upcoming, later)
        if self.pool.client:
            handle, streaming = slot.actor.run_all.remote(*args), False
        else:
            handle, streaming = slot.actor.run.options(num_returns="streaming").remote(*args), True
        self.calls.append(Call(slot, batch, handle, streaming))

    def _receive(self, call: Call) -> None:
        try:
            if call.streaming:
                try:
                    items = [ray.get(next(call.handle))]
                except StopIteration:
                    self._ended(call)
                    return
            else:
                items = ray.get(call.handle)
        except LOST as exc:
            self._lose(call.slot, exc)
            return
        except rx.RayTaskError as exc:
            raise self._engine_error(call.slot, exc) from None
        for finished, counters in items:
            self._take(call.slot, finished, counters)
        if not call.streaming:
            self._ended(call)

    def _take(self, slot, finished: list, counters: dict) -> None:
        slot.counters = counters
        slot.answered += len(finished)
        for index, out in finished:
            if self.outputs[index] is None:
                self.outputs[index] = out
                self.done += 1
                if self.on_result is not None:
                    self.on_result(index, out)
        if self.progress is not None:
            self.progress(self.done, len(self.outputs))

    def _ended(self, call: Call) -> None:
        """A batch ran to its end; anything it did not answer (it was cancelled) is routed
        again."""
        self.calls.remove(call)
        left = [i for i in call.indexes if self.outputs[i] is None]
        if left:
            self._route(left, self.pool.alive())

    # ---- losses, errors, cancelling ------------------------------------------------------
    def _lose(self, slot, exc: BaseException) -> None:
        reason = self.pool.lose(slot, exc)
        self.report.lost.append(reason)
        mine = [c for c in self.calls if c.slot is slot]
        self.calls = [c for c in self.calls if c.slot is not slot]
        left = sorted({i for c in mine for i in c.indexes if self.outputs[i] is None}
                      | set(self.queues.drop(slot.index)))
        alive = self.pool.alive()
        if not alive:
            n = len(self.outputs)
            raise WorkersLostError(
                f"every Ray worker was lost ({'; '.join(self.report.lost)}) with {self.done} "
                f"of {n} requests done; those answers were kept, and the next statement starts "
                "new workers (if it happens again, check the cluster with `ray status`)")
        self.report.replanned += len(left)
        self._route(left, alive)

    def _engine_error(self, slot, exc: rx.RayTaskError) -> EngineError:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, EngineError):
            return cause
        return EngineError(f"worker {slot.worker_id} on {slot.node}: "
                           f"{type(cause or exc).__name__}: {cause or exc}")

    def _cancel(self) -> None:
        for slot in self.pool.alive():
            slot.actor.cancel.remote(self.epoch)

    # ---- routing -------------------------------------------------------------------------
    def _route(self, indexes, slots: list) -> None:
        """Route requests ``indexes`` (ascending: trie order) over ``slots``' queues."""
        if not len(indexes):
            return
        shares = route([self.ids[i] for i in indexes], len(slots),
                       [self.decodes[i] for i in indexes], self.pool.cost_model)
        for share, slot in zip(shares, slots):
            self.queues.assign(slot.index, [Piece(indexes[u.start:u.stop], u.cost)
                                            for u in share.units])

    def _later_shares(self, later: list[list[int]], slots: list) -> dict[int, list[int]]:
        """Each worker's part of the later operators' requests, routed the same way."""
        if not later:
            return {}
        shares = route(later, len(slots), 1, self.pool.cost_model)
        return {slot.index: share.indexes() for share, slot in zip(shares, slots)}
