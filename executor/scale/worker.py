"""The engine worker: a Ray actor that owns one ``Engine`` (its model, its KV cache, its
scheduler), built from the driver's ``EngineConfig`` and cost model.

Why the shape:
- ``run`` is a streaming generator: after every engine step that finishes requests it yields
  them with the engine's counters, so answers reach the driver (and its result cache) as they
  finish, and a worker killed mid-batch loses only what had not finished. The engine runs in
  a thread of its own and ``run`` yields what that thread hands over: ``Engine.generate`` is
  the one public entry, and it reports through callbacks.
- Calls run one at a time in the default group, so the driver keeps two batches queued here
  and the engine never waits for the network between them. ``cancel`` and ``status`` run in a
  ``control`` group beside them, so Ctrl-C reaches a busy engine within one step.
- The operator's requests arrive once, through the object store (``box``: an ObjectRef inside
  a list, so Ray does not resolve it on every call); each batch names its requests by index,
  with the worker's own future (what its queue holds next, and its share of later operators),
  which the ``belady`` eviction reads.
"""
from __future__ import annotations

import os
import queue
import threading
import time

import ray

from executor.engine import CancelledError, EngineError
from executor.engine.engine import Engine

_END = object()
STATS_EVERY = 0.25         # seconds between counter reports while nothing finishes


@ray.remote(concurrency_groups={"control": 1}, max_restarts=0)
class EngineWorker:
    def __init__(self, config, cost_model, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.engine = Engine(config, cost_model=cost_model)
        self._cancelled = -1           # operators (epochs) up to this one are cancelled
        self._running: int | None = None
        self._box: tuple = (None, ([], []))

    @ray.method(concurrency_group="control")
    def info(self) -> dict:
        """Where the worker runs and what its engine holds."""
        ctx = ray.get_runtime_context()
        return {"node": ray.util.get_node_ip_address(), "node_id": ctx.get_node_id(),
                "pid": os.getpid(), "num_blocks": self.engine.num_blocks,
                "max_model_len": self.engine.max_model_len,
                "vocab_size": self.engine.runner.vocab_size}

    @ray.method(concurrency_group="control")
    def cancel(self, epoch: int) -> None:
        """Stop the running batch of operator ``epoch`` (and any earlier) within one step;
        its queued batches return at once."""
        self._cancelled = max(self._cancelled, epoch)

    @ray.method(concurrency_group="control")
    def status(self) -> dict:
        return {"running": self._running, "stats": self.engine.stats.as_dict()}

    def reset_stats(self) -> None:
        self.engine.reset_stats()

    def run(self, epoch: int, box: list, indexes: list[int], upcoming: list[int],
            later: list[int]):
        """Run requests ``indexes`` of operator ``epoch``; yield ``(finished, counters)`` as
        they finish, ``finished`` a list of (request index, Output). ``upcoming`` and
        ``later`` index the requests this worker expects next (this operator's and later
        operators'). An engine error carries the operator's request index."""
        if self._cancelled >= epoch:
            return
        requests, future = self._requests(epoch, box)
        batch = [requests[i] for i in indexes]
        ahead = [requests[i] for i in upcoming] + [future[i] for i in later]
        handed: queue.SimpleQueue = queue.SimpleQueue()
        thread = threading.Thread(target=self._generate, daemon=True, name=f"engine-{epoch}",
                                  args=(epoch, batch, indexes, ahead, handed))
        self._running = epoch
        thread.start()
        try:
            while (item := handed.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            thread.join()
            self._running = None

    def run_all(self, epoch: int, box: list, indexes: list[int], upcoming: list[int],
                later: list[int]) -> list:
        """``run`` as one list, for a Ray Client driver (no streaming generators there)."""
        return list(self.run(epoch, box, indexes, upcoming, later))

    # ---- inside ----------------------------------------------------------------------------
    def _requests(self, epoch: int, box: list) -> tuple[list, list]:
        if self._box[0] != epoch:
            self._box = (epoch, ray.get(box[0]))
        return self._box[1]

    def _generate(self, epoch: int, batch: list, indexes: list[int], ahead: list,
                  handed: queue.SimpleQueue) -> None:
        """The engine thread: finished requests go to ``handed`` after each step, with the
        counters (and the counters alone every ``STATS_EVERY`` seconds, for progress)."""
        finished: list = []
        last = [time.monotonic()]

        def on_result(i: int, out) -> None:
            finished.append((indexes[i], out))

        def hand_over(done: int = 0, total: int = 0) -> None:
            if finished or time.monotonic() - last[0] > STATS_EVERY:
                handed.put((finished[:], self.engine.stats.as_dict()))
                finished.clear()
                last[0] = time.monotonic()

        error: BaseException | None = None
        try:
            self.engine.generate(batch, progress=hand_over, on_result=on_result,
                                 should_stop=lambda: self._cancelled >= epoch,
                                 future=ahead or None)
        except CancelledError:
            pass                      # the driver stopped listening; nothing to report
        except EngineError as exc:
            index = getattr(exc, "request_index", None)
            if index is not None:
                exc.request_index = indexes[index]
            error = exc
        except BaseException as exc:      # noqa: BLE001 - handed to the driver as it is
            error = exc
        finally:
            if finished:                  # what finished before an error still counts
                handed.put((finished[:], self.engine.stats.as_dict()))
            if error is not None:
                handed.put(error)
            handed.put(_END)
