"""Every engine of a process loads and computes on one long-lived thread, whoever calls it.

Why: torch's CPU build runs its intra-op parallelism on OpenMP (libgomp). Each thread that
enters a parallel region gets a team of worker threads of its own, kept until that thread
exits. Once the teams together hold more threads than the machine has cores, libgomp stops
spinning between parallel regions and puts idle workers to sleep, and waking them costs more
than a small model's operators. A model loaded on the main thread and run on a statement thread
has two teams. Measured on 2 cores: a 210-token prefill of the built-in model took 6 ms on the
thread that loaded it and 15.5 ms on another thread (SmolLM2-135M, 400 tokens: 350 against
430 ms); EXPLAIN's seconds, priced by a calibration that ran on one thread, came out at half
the actual. With all torch work on this thread there is one team, whichever thread (the main
one, a statement's, DuckDB's) asks.

``on_compute_thread(fn, ...)`` runs ``fn`` there and waits. A Ctrl-C in the waiting thread
sets ``interrupted`` (the engine checks it every step), waits for ``fn`` to wind down, and is
raised in the waiting thread as before. Nested calls from the compute thread run in place.
"""
from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as WaitTimeout
from typing import Callable, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_jobs: queue.SimpleQueue | None = None
_ident: int | None = None


def _serve(jobs: queue.SimpleQueue) -> None:
    while True:
        _run(*jobs.get())


def _run(future: Future, fn: Callable, args: tuple, kwargs: dict) -> None:
    """One job, in a frame of its own: nothing of it (an engine bound to ``fn``) stays
    referenced by the idle thread once it is done."""
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as error:              # handed to the waiting thread
        future.set_exception(error)


def _started() -> queue.SimpleQueue:
    global _jobs, _ident
    with _lock:
        if _jobs is None:
            jobs: queue.SimpleQueue = queue.SimpleQueue()
            thread = threading.Thread(target=_serve, args=(jobs,), name="infersql-compute",
                                      daemon=True)
            thread.start()
            _jobs, _ident = jobs, thread.ident
        return _jobs


def _forget_after_fork() -> None:
    """A forked child has no compute thread: it starts its own on first use."""
    global _jobs, _ident, _lock
    _jobs, _ident, _lock = None, None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def is_compute_thread() -> bool:
    return _ident is not None and threading.get_ident() == _ident


def on_compute_thread(fn: Callable[..., T], *args, interrupted: threading.Event | None = None,
                      **kwargs) -> T:
    """``fn(*args, **kwargs)`` on the compute thread; its result or its exception here."""
    if is_compute_thread():
        return fn(*args, **kwargs)
    future: Future = Future()
    _started().put((future, fn, args, kwargs))
    try:
        return _wait(future)
    except KeyboardInterrupt:
        if interrupted is not None:
            interrupted.set()
        try:
            _wait(future)
        except BaseException:                   # its cancellation, replaced by the Ctrl-C
            pass
        raise


def _wait(future: Future):
    """Wait in short slices, so a Ctrl-C reaches this thread at once."""
    while True:
        try:
            return future.result(timeout=0.1)
        except WaitTimeout:
            continue
