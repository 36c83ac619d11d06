"""How many threads a connection's work uses: DuckDB's (``SET threads``) and torch's.

On a 2-core machine shared with another busy process, a 2,000-row filter went from 6 s to
22-43 s with the default thread counts, and to 7 s with one thread: oversubscribed threads
wait on each other.
"""
from __future__ import annotations

import os
import sys


def set_threads(con, n: int) -> None:
    """Threads for DuckDB (the database ``con`` belongs to) and for torch's inference."""
    con.execute(f"SET threads = {int(n)}")
    set_torch_threads(int(n))


def set_torch_threads(n: int) -> None:
    """torch's intra-op threads, without importing torch for it: plain SQL never loads torch.
    Once torch is imported it is told directly; before, ``OMP_NUM_THREADS`` is what torch
    reads when it starts."""
    torch = sys.modules.get("torch")
    if torch is not None:
        from executor.engine.compute_thread import on_compute_thread

        torch.set_num_threads(n)
        on_compute_thread(torch.set_num_threads, n)     # each thread keeps its own OpenMP count
    else:
        os.environ["OMP_NUM_THREADS"] = str(n)
