"""Scale-out: one planned operator across many engines, each a Ray actor with its own KV cache.

Nothing here imports Ray until a pool is built (``pool.py``): ``ScaleOut`` is plain data, so a
connection without ``workers=``/``cluster=``/``address=`` never imports it. DuckDB, the
optimizer and the result cache stay on the driver; the workers only run engines.

    settings.py      ScaleOut: how many workers, and which cluster (checked at connect())
    cluster.py       joining or starting Ray, and the resources each worker asks for
    worker.py        the actor: one Engine, streaming each step's finished requests back
    work_queues.py   per-worker queues of routed units; an idle worker steals from the busiest
    dispatch.py      one operator's run: dispatch, stream back, re-plan a lost worker's work
    pool.py          EnginePool: the driver side, with the Engine's ``generate`` contract
    projection.py    what EXPLAIN shows: each worker's share and the estimated makespan
"""
from .settings import ScaleOut

__all__ = ["ScaleOut"]
