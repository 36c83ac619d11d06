"""An operator's estimate when its engine is a pool of Ray workers (``connect(workers=N)``).

The requests are routed over the workers as the pool will route them, each share is
simulated on its own engine, and the estimate becomes the pool's: seconds are the makespan
(the slowest share), cached tokens the sum over the shares (a prefix split between two
workers is computed on both). EXPLAIN lists each share. Without scale-out nothing changes.
"""
from __future__ import annotations

import logging

from executor.plan import Estimate, LLMOperator

from .context import PlanningContext

log = logging.getLogger(__name__)


def estimate_workers(op: LLMOperator, e: Estimate, ctx: PlanningContext,
                     ordered: list[list[int]], lens: list[int], scale: float) -> None:
    models = ctx.runtime.models
    if models.scale is None or not ordered:
        return
    from executor.scale.projection import project_shares

    try:
        workers = models.workers(op.call.model)
        projected = project_shares(models.engine_config(op.call.model), ordered, lens, workers,
                                   ctx.cost_model(op.call))
    except Exception as exc:           # noqa: BLE001 - an estimate must never fail a query
        log.debug("worker projection failed: %s", exc)
        return
    e.seconds = projected.makespan * scale
    e.cached_tokens = round(projected.cached_tokens * scale)
    e.workers = [{"worker": s.worker, "requests": round(s.requests * scale),
                  "prompt_tokens": round(s.prompt_tokens * scale),
                  "prefill_tokens": round(s.prefill_tokens * scale),
                  "seconds": s.seconds * scale} for s in projected.shares]
