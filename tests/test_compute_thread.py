"""The engine loads and computes on one thread, whichever thread calls it (compute_thread.py):
torch's OpenMP keeps one team of workers, so it spins between operators instead of sleeping."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from executor.engine import Engine, EngineConfig, Request
from executor.engine.compute_thread import is_compute_thread, on_compute_thread


def test_calls_from_any_thread_run_on_one_thread():
    seen = []
    on_compute_thread(lambda: seen.append(threading.get_ident()))
    worker = threading.Thread(target=on_compute_thread,
                              args=(lambda: seen.append(threading.get_ident()),))
    worker.start()
    worker.join()
    assert len(seen) == 2 and seen[0] == seen[1] != threading.get_ident()
    assert not is_compute_thread()


def test_the_idle_thread_keeps_nothing_of_its_last_job():
    """A closed connection's engine (its weights, its KV pool) is freed when the last
    reference goes, not when the garbage collector next runs: the thread waiting for its
    next job holds no reference to the last one's function or arguments."""
    import gc
    import weakref

    class Owner:
        def work(self, x):
            return x + 1

    owner = Owner()
    gone = weakref.ref(owner)
    gc.disable()
    try:
        assert on_compute_thread(owner.work, 1) == 2
        del owner
        assert gone() is None
    finally:
        gc.enable()


def test_result_exception_and_nesting():
    assert on_compute_thread(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        on_compute_thread(lambda: 1 / 0)
    # a call made from the compute thread runs in place (no deadlock)
    assert on_compute_thread(lambda: on_compute_thread(is_compute_thread)) is True


def test_ctrl_c_while_waiting_interrupts_the_work_and_is_raised_here():
    interrupted = threading.Event()
    ran = []

    def work():
        while not interrupted.is_set():
            time.sleep(0.01)
        ran.append("stopped")
        return "finished"

    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        on_compute_thread(work, interrupted=interrupted)
    assert ran == ["stopped"]                       # the work was told, and wound down first
    assert on_compute_thread(lambda: 7) == 7        # the thread still serves


def test_engine_loads_and_generates_on_the_compute_thread(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 22))
    threads = set()

    def on_result(index, out):
        threads.add(threading.get_ident())

    outs = []
    worker = threading.Thread(target=lambda: outs.extend(engine.generate(
        [Request(prompt="hello there", max_tokens=3)], on_result=on_result)))
    worker.start()
    worker.join()
    engine.generate([Request(prompt="hello again", max_tokens=3)], on_result=on_result)
    assert len(outs) == 1 and len(threads) == 1
    assert on_compute_thread(threading.get_ident) in threads
