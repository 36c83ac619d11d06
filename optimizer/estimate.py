"""What each LLM operator will cost, before it runs: the figures EXPLAIN prints.

Rows and distinct prompts are counted, not guessed, wherever the operator's input depends on
nothing unknown: DuckDB runs its driver query (relational work only), and the answers the
result cache or an earlier sample already holds count as known. An operator after an LLM
predicate whose answers are not known yet is estimated from its input without that predicate:
its rows scaled by the predicate's selectivity (feedback, sample, or the default), its tokens
and time from as many of those prompts, spread evenly over them. A streamed LIMIT is
estimated over the prompts its first waves reach (in the order it sends them). So EXPLAIN,
too, tokenizes and simulates about what the statement would infer, not every candidate.

Tokens come from the model's tokenizer; tokens served by the prefix cache, seconds and KV
memory from the engine simulator (the engine's own scheduler and block manager, priced by the
cost model, calibrated or not), run over the requests in the plan's order and the engine's
KV budget, plus the cost model's per-request work outside the iterations. Nothing is inferred
and no weights are loaded. The simulated cache starts empty: blocks an earlier statement left
in the engine's cache make the actual run cheaper than estimated.
"""
from __future__ import annotations

import logging
import math
from itertools import islice

from executor.plan import DEFAULT_SELECTIVITY, Estimate, EngineView, LLMOperator, PhysicalPlan
from executor.prefix_sharing import hit_rate, prefix_sorted
from executor.statement_stats import StatementStats

from .context import PlanningContext
from .profile import profile_of, spread
from .worker_estimate import estimate_workers

log = logging.getLogger(__name__)


def estimate(plan: PhysicalPlan, ctx: PlanningContext) -> None:
    """Fill every operator's ``estimate``. Answers the cache holds are lent to the memos while
    the driver queries count rows, and taken back after, so the run still counts them as
    cache hits."""
    lent: list[tuple[dict, list[str]]] = []
    unknown: set[str] = set()          # operators whose answers are not all known
    inferred: dict[str, set[str]] = {}   # answers key -> prompts an earlier operator will infer
    try:
        for op in plan.operators:
            _estimate(op, plan, ctx, lent, unknown,
                      inferred.setdefault(plan.memo_key[op.binding], set()))
    finally:
        for memo, prompts in lent:
            for p in prompts:
                memo.pop(p, None)


def _estimate(op: LLMOperator, plan: PhysicalPlan, ctx: PlanningContext, lent, unknown,
              inferred: set[str]) -> None:
    e: Estimate = op.estimate
    memo = plan.memo(op)
    reads_unknown = [b for b in unknown if b in op.reads]
    if not reads_unknown:
        rows = ctx.rows(op.driver_sql)
        prompts = ctx.runtime.prepare(op.call, rows).unique
        e.rows, e.distinct, e.exact_rows = len(rows), len(prompts), True
        scale = 1.0
    else:
        found = profile_of(op.call, op.independent_sql, ctx)
        if found is None:
            return
        scale = 1.0
        for b in reads_unknown:
            earlier = plan.operator(b)
            sel = earlier.selectivity if earlier is not None else None
            scale *= sel if sel is not None else DEFAULT_SELECTIVITY
        if op.limit_pushdown:
            scale = 1.0      # the LIMIT still fills up, from further rows if need be
        prompts = found.prompts
        e.rows = round(len(found.rows) * scale)
        e.distinct = round(len(prompts) * scale)
        if scale < 1.0:
            # As many prompts as should survive, spread over the candidates: only they are
            # looked up, tokenized and simulated (the survivors' sharing, not all candidates').
            prompts, scale = spread(prompts, e.distinct), 1.0
    if op.stream_limit is not None:
        prompts = _first_waves(op, prompts, memo)
    new = [p for p in prompts if p not in memo]
    cached = ctx.runtime.lookup(op.call, new, StatementStats())
    memo.update(cached)
    lent.append((memo, list(cached)))
    # Answers already in the memo come from the optimizer's sample of this predicate: this
    # statement inferred them, so they count as calls, as EXPLAIN ANALYZE counts them.
    todo = [p for p in prompts if p not in cached and p not in inferred]
    inferred.update(todo)
    e.cache_hits = round(len(cached) * scale)
    if any(p not in memo for p in todo) or op.stream_limit is not None:
        unknown.add(op.binding)
    _tokens_and_time(op, e, ctx, todo, scale)


def _first_waves(op: LLMOperator, prompts: list[str], memo: dict) -> list[str]:
    """The prompts a streamed LIMIT should reach, in the order it reaches them (its driver's,
    ``executor.limit_stream``): as many as its LIMIT needs at the predicate's selectivity.
    Only they are looked up and tokenized, as in the run."""
    sel = op.selectivity or DEFAULT_SELECTIVITY
    need = math.ceil(op.stream_limit / max(sel, 1e-3))
    return list(islice((p for p in prompts if p not in memo), need))


def _tokens_and_time(op: LLMOperator, e: Estimate, ctx: PlanningContext, todo: list[str],
                     scale: float) -> None:
    if not todo:
        e.prompt_tokens = e.cached_tokens = e.decode_tokens = 0
        e.seconds, e.kv_bytes = 0.0, 0
        return
    ids = ctx.runtime.tokenize(op.call, todo)
    choices = op.call.choices is not None
    e.decode_tokens = round((0 if choices else op.call.expected_tokens) * len(ids) * scale)
    e.prompt_tokens = round(sum(len(i) for i in ids) * scale)
    e.hit_rate_bound = hit_rate(ids)
    ordered = [ids[i] for i in prefix_sorted(ids)]
    try:
        planned, table = _simulate(op, ctx, ordered), _simulate(op, ctx, ids)
    except Exception as exc:           # noqa: BLE001 - an estimate must never fail a query
        log.debug("simulation failed: %s", exc)
        e.cached_tokens = round(e.prompt_tokens * e.hit_rate_bound)
        return
    prompt = planned.stats.prompt_tokens or 1
    if choices:                          # a label's tokens after its first, as the engine counts
        e.decode_tokens = round(planned.stats.decoded_tokens * scale)
    e.cached_tokens = round(planned.stats.cached_tokens * scale)
    e.hit_rate_planned = planned.stats.cached_tokens / prompt
    e.hit_rate_table = table.stats.cached_tokens / (table.stats.prompt_tokens or 1)
    e.seconds = (planned.seconds + planned.cost_model.request_seconds(len(todo))) * scale
    e.kv_bytes = planned.stats.peak_blocks * planned.block_bytes
    op.engine = EngineView(ctx.runtime.models.engine_config(op.call.model), planned.cost_model,
                           planned.num_blocks)
    estimate_workers(op, e, ctx, ordered, output_lens(op, len(ordered)), scale)


def output_lens(op: LLMOperator, n: int) -> list[int]:
    """Tokens each of ``n`` requests is expected to decode (a choice: one pass)."""
    return [1 if op.call.choices is not None else op.call.expected_tokens] * n


def _simulate(op: LLMOperator, ctx: PlanningContext, ids: list[list[int]]):
    from executor.engine.geometry import bytes_per_block, default_dtype, read_geometry
    from executor.engine.simulator import simulate

    config = ctx.runtime.models.engine_config(op.call.model)
    labels = ctx.runtime.choice_ids(op.call)       # scored as the engine scores them
    result = simulate(config, ids, output_lens(op, len(ids)), ctx.cost_model(op.call),
                      choices=None if labels is None else [labels] * len(ids))
    dtype = config.dtype or default_dtype(config.device)
    result.block_bytes = bytes_per_block(read_geometry(config.model), config.block_size, dtype)
    return result
