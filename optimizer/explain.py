"""EXPLAIN in PostgreSQL's manner: a tree of operators, estimates beside actuals.

    Query  (DuckDB runs the statement; 2 LLM operators, 0 lazy calls)
      ->  LLM Projection  LLM('Summarize.', review)
            estimate: rows=10 distinct=10 cache_hits=0 prompt_tokens=6120 cached_tokens=4890 ...
            actual:   rows=10 distinct=10 calls=10 cache_hits=0 prompt_tokens=6120 ...
            input: the rows ORDER BY ... LIMIT keeps; order: prefix (hit rate 80%, ...)
            ->  LLM Filter  LLM_FILTER('Praises the acting?', review)  selectivity=0.31 (sample)
                  ...
                  ->  Relational input  FROM reviews WHERE stars >= 4

EXPLAIN ANALYZE ends with the statement's totals and where its wall time went (the parts add
up to it; ``executor/statement_times.py``)::

    Total: llm_calls=9 cache_hits=0 prompt_tokens=282 cached_tokens=273 ... seconds=0.062
    Time: 0.185 s = planning 0.113 (preparing requests 0.020) + driver queries 0.004 + ...

Each scope (the query, a CTE, a subquery) is one chain: its relational input at the bottom,
its LLM predicates above it in the order they run, its projections on top. Calls always read
as the user wrote them, never as the internal UDF names. ``FORMAT JSON`` gives one document.
"""
from __future__ import annotations

import json

from executor import sql_types
from executor.engine.geometry import default_dtype
from executor.plan import PREDICATE, LLMOperator, PhysicalPlan
from executor.statement_stats import StatementStats
from executor.statement_times import StatementTimes

EVICTIONS_NOTE = ("evictions counts cached KV blocks dropped to make room, earlier statements' "
                  "blocks included: the engine keeps every finished prefix cached until the pool "
                  "needs the room, so a long session evicts even when one query fits")
_EST = ("rows", "distinct", "cache_hits", "prompt_tokens", "cached_tokens", "decode_tokens",
        "seconds", "kv_bytes")


def render(plan: PhysicalPlan, total: StatementStats | None, fmt: str = "text",
           times: StatementTimes | None = None) -> list[str]:
    """The plan as lines of text (or one line of JSON); ``total`` and ``times`` (where the
    statement's wall time went) for EXPLAIN ANALYZE."""
    doc = document(plan, total, times)
    if fmt == "json":
        return [json.dumps(doc, indent=2)]
    return _text(doc)


def document(plan: PhysicalPlan, total: StatementStats | None,
             times: StatementTimes | None = None) -> dict:
    scopes: dict[int, dict] = {}
    for op in plan.operators:
        scope = scopes.setdefault(op.scope.key, {"scope": op.scope.name, "input": op.scope.input,
                                                 "operators": []})
        scope["operators"].append(_operator(op, total is not None))
    engine, cost = _engine(plan)
    doc = {"statement": "DuckDB runs the statement with every planned call bound to its answers"
                        if plan.planned else "DuckDB runs the statement; every call is lazy",
           "planned": plan.planned, "engine": engine, "cost_model": cost,
           "scopes": list(scopes.values()),
           "lazy": [{"call": plan.calls[name][0].sql, "why": why}
                    for name, why in plan.lazy.items()]}
    if total is not None:
        doc["actual_total"] = total.as_dict()
        if total.workers:
            doc["actual_workers"] = _worker_figures(total.workers)
        if total.evictions:
            doc["notes"] = [EVICTIONS_NOTE]
    if times is not None:
        doc["time_seconds"] = {k: round(v, 4) for k, v in times.as_dict().items()}
    return doc


def _operator(op: LLMOperator, analyze: bool) -> dict:
    e = op.estimate
    out = {"operator": "LLM Filter" if op.role == PREDICATE else "LLM Projection",
           "call": op.call.sql,
           "estimate": {k: _round(getattr(e, k)) for k in _EST if getattr(e, k) is not None}}
    if op.role == PREDICATE:
        out["predicate"] = op.predicate
        if op.selectivity is not None:
            out["selectivity"] = {"value": round(op.selectivity, 3),
                                  "source": op.selectivity_source}
            if e.rows is not None and op.passes is not None:     # beside rows and distinct
                figures = list(out["estimate"].items())
                figures.insert(2, ("passed", round(e.rows * op.selectivity)))
                out["estimate"] = dict(figures)
    out["order"] = op.order
    rates = {"table_order": e.hit_rate_table, "planned_order": e.hit_rate_planned,
             "upper_bound": e.hit_rate_bound, "fields_auto": e.hit_rate_fields_auto,
             "fields_ggr": e.hit_rate_fields_ggr, "fields_bound": e.hit_rate_fields_bound}
    out["prefix_hit_rate"] = {k: round(v, 3) for k, v in rates.items() if v is not None}
    if op.call.schema is not None:
        out["answer"] = _typed_answer(op.call)
    orders = op.call.field_orders
    if orders is not None:
        out["field_order"] = [op.call.field_names[i] for i in orders.leaf]
        if not orders.is_fixed:
            out["field_order_groups"] = orders.count_groups()
    if op.limit_pushdown:
        out["input"] = "the rows ORDER BY ... LIMIT keeps"
    if op.stream_limit is not None:
        out["stops_after"] = f"{op.stream_limit} rows pass (LIMIT without ORDER BY)"
    if not e.exact_rows and e.rows is not None:
        out["estimate"]["rows_scaled_by_selectivity"] = True
    if e.workers:
        out["workers"] = {"makespan_seconds": _round(max(w["seconds"] for w in e.workers)),
                          "estimate": [{k: _round(v) for k, v in w.items()} for w in e.workers]}
    if analyze and op.actual.workers:
        out.setdefault("workers", {})["actual"] = _worker_figures(op.actual.workers)
    if analyze:
        a = op.actual.as_dict()
        a = {"rows": op.actual_rows, "distinct": op.actual_distinct, "passed": op.actual_passed, **a}
        out["actual"] = {k: _round(v) for k, v in a.items() if v is not None}
    return out


def _typed_answer(call) -> str:
    """A typed call's answer: its type and the most tokens its grammar lets it take."""
    bound = sql_types.token_bound(call.schema)
    if bound is None:
        return (f"{call.sql_type} under its grammar; the schema bounds no length, so an answer "
                f"cut at max_tokens={call.max_tokens} reads NULL")
    return f"{call.sql_type} under its grammar, at most {bound} tokens (max_tokens={call.max_tokens})"


def _engine(plan: PhysicalPlan) -> tuple[dict, dict]:
    view = next((op.engine for op in plan.operators if op.engine is not None), None)
    if view is None:
        return {}, {}
    cost, config, blocks = view.cost_model, view.config, view.kv_blocks
    info = {"calibrated": bool(cost.calibrated), "model": cost.describe()}
    engine = {"model": config.model, "device": config.device,
              "dtype": config.dtype or default_dtype(config.device), "kv_blocks": blocks,
              "eviction": config.eviction, "preemption": config.preemption,
              "kv_cache_bytes": config.kv_cache_bytes, "block_size": config.block_size,
              "max_batch_tokens": config.max_batch_tokens}
    if config.compile:
        engine["compile"] = True
    workers = next((len(op.estimate.workers) for op in plan.operators if op.estimate.workers), 0)
    if workers:                     # scale-out: that many engines, kv_blocks each
        engine["workers"] = workers
    try:
        info["t_star_seconds"] = round(cost.break_even_seconds(config.block_size, blocks), 4)
    except Exception:       # noqa: BLE001 - a figure to show, never a failure
        pass
    return engine, info


def _text(doc: dict) -> list[str]:
    n_ops = sum(len(s["operators"]) for s in doc["scopes"])
    lines = [f"Query  ({doc['statement']}; {n_ops} LLM operator{'s' * (n_ops != 1)}, "
             f"{len(doc['lazy'])} lazy call{'s' * (len(doc['lazy']) != 1)})"]
    if doc["engine"]:
        eng, cost = doc["engine"], doc["cost_model"]
        lines.append(f"  model: {eng['model']}")
        lines.append("  engine: " + " ".join(f"{k}={_human(k, v)}" for k, v in eng.items()
                                             if k != "model"))
        lines.append(f"  cost model: {'calibrated' if cost.get('calibrated') else 'uncalibrated'}"
                     + (f", T*={cost['t_star_seconds']} s" if "t_star_seconds" in cost else ""))
    for scope in doc["scopes"]:
        depth = 1
        ops = scope["operators"]
        for op in reversed(ops):
            pad = "      " * (depth - 1) + "  "
            title = f"{pad}->  {op['operator']}  {op['call']}"
            if "selectivity" in op:
                s = op["selectivity"]
                title += f"  selectivity={s['value']} ({s['source']})"
            lines.append(title)
            inner = pad + "      "
            if "predicate" in op and op["predicate"] != op["call"]:
                lines.append(f"{inner}predicate: {op['predicate']}")
            lines.append(f"{inner}estimate: " + _figures(op["estimate"]))
            if "actual" in op:
                lines.append(f"{inner}actual:   " + _figures(op["actual"]))
            order = f"order: {op['order']}"
            rates = op["prefix_hit_rate"]
            if rates:
                order += " (prefix hit rate " + ", ".join(
                    f"{k.replace('_', ' ')} {v:.0%}" for k, v in rates.items()) + ")"
            lines.append(f"{inner}{order}")
            if "field_order_groups" in op:
                n = op["field_order_groups"]
                lines.append(f"{inner}field order: {n} group{'s' * (n != 1)} of rows with their "
                             f"own order, the others: {', '.join(op['field_order'])}")
            elif "field_order" in op:
                lines.append(f"{inner}field order: {', '.join(op['field_order'])}")
            lines += _worker_lines(op.get("workers"), inner)
            for key in ("answer", "input", "stops_after"):
                if key in op:
                    lines.append(f"{inner}{key.replace('_', ' ')}: {op[key]}")
            depth += 1
        pad = "      " * (depth - 1) + "  "
        lines.append(f"{pad}->  Relational input ({scope['scope']})  {scope['input']}")
    for lazy in doc["lazy"]:
        lines.append(f"  lazy: {lazy['call']}  ({lazy['why']})")
    if "actual_total" in doc:
        lines.append("Total: " + _figures(doc["actual_total"]))
        lines += [f"  {_worker_title(w)}: {_figures(_numbers(w))}" for w in doc.get("actual_workers", ())]
    if "time_seconds" in doc:
        t = doc["time_seconds"]
        lines.append(f"Time: {t['total']:.3f} s = planning {t['planning']:.3f} (preparing "
                     f"requests {t['requests']:.3f}) + driver queries {t['driver_queries']:.3f}"
                     f" + inference {t['inference']:.3f} + final pass {t['final_pass']:.3f}")
    lines += [f"Note: {note}" for note in doc.get("notes", ())]
    return lines


def _worker_figures(workers: dict) -> list[dict]:
    return [{"worker": w, **{k: _round(v) for k, v in figures.items()}}
            for w, figures in sorted(workers.items())]


def _worker_lines(workers: dict | None, pad: str) -> list[str]:
    """Scale-out: each worker's share as estimated, then as it ran."""
    if not workers:
        return []
    lines = []
    if "estimate" in workers:
        lines.append(f"{pad}workers: {len(workers['estimate'])}, estimated makespan "
                     f"{_human('seconds', workers['makespan_seconds'])} s")
        lines += [f"{pad}  worker {w['worker']} share: {_figures(_numbers(w))}"
                  for w in workers["estimate"]]
    lines += [f"{pad}  {_worker_title(w)} actual: {_figures(_numbers(w))}"
              for w in workers.get("actual", ())]
    return lines


def _worker_title(w: dict) -> str:
    where = f" on {w['node']}" if "node" in w else ""
    return f"worker {w['worker']}{where}{' (lost)' if w.get('lost') else ''}"


def _numbers(w: dict) -> dict:
    return {k: v for k, v in w.items() if k not in ("worker", "node", "lost")}


def _figures(d: dict) -> str:
    return " ".join(f"{k}={_human(k, v)}" for k, v in d.items() if v is not True)


def _human(key: str, value) -> str:
    if key.endswith("bytes") and isinstance(value, int):
        return f"{value / (1 << 20):.1f}MiB" if value >= 1 << 20 else f"{value / 1024:.0f}KiB"
    if key == "seconds" and isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _round(v):
    return round(v, 4) if isinstance(v, float) else v
