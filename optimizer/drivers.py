"""The driver query of an LLM operator: the argument tuples of the rows that reach the call.

For a predicate, the rows are the scope's input after its relational predicates and after the
LLM predicates that run before it::

    SELECT DISTINCT CAST(r.review AS TEXT)              -- what the call's UDF receives
    FROM reviews r JOIN movies m USING (link)
    WHERE r.topcritic AND __infersql_filter_3(...)      -- an earlier LLM predicate, answered

For a projection they are the rows that pass every predicate, and, when ORDER BY ... LIMIT
does not depend on an LLM call, only the rows the LIMIT keeps. A term that still holds an
unanswered call is left out, which can only add rows (a superset is safe; the final pass reads
what it needs). ``ready`` names the UDFs whose operators have run before this one. A streamed
LIMIT's driver is ordered by the call's fields, in the order its requests should go.
"""
from __future__ import annotations

from sqlglot import exp

from executor.plan import PREFIX

from .logical import LLMNode, LogicalPlan, conjuncts, is_inner, udf_calls

ARG = "__infersql_arg_{}"


def driver_sql(node: LLMNode, plan: LogicalPlan, ready: set[str], rows: bool = False) -> str | None:
    """The driver's text; with ``rows``, a query that counts the rows reaching the call
    (duplicates included: a predicate's cost is per distinct prompt, its selectivity and
    its use to later operators per row)."""
    found = driver(node, plan, ready, rows)
    return None if found is None else found[0]


def driver(node: LLMNode, plan: LogicalPlan, ready: set[str],
           rows: bool = False) -> tuple[str, set[str]] | None:
    """The driver of ``node`` and the UDFs it reads, or None when it cannot be written (an
    outer join's ON or a CTE it reads still holds an unanswered call). A call outside any
    SELECT (``INSERT ... VALUES``) has a driver only when its arguments are constants."""
    names = set(plan.calls)
    if node.scope is None:
        args = node.node.expressions
        if any(a.find(exp.Column, exp.Select) for a in args) or udf_calls(node.node, names) != [node.node]:
            return None
        return exp.select(*[a.copy() for a in args]).sql(dialect="duckdb"), set()
    select = node.scope.select

    def answered(e: exp.Expression) -> bool:
        return all(n.name in ready for n in udf_calls(e, names))

    base = exp.Select()
    base.set("from_", select.args["from_"].copy() if select.args.get("from_") else None)
    joins = []
    for join in select.args.get("joins") or []:
        join = join.copy()
        on = join.args.get("on")
        if on is not None and not answered(on):
            if not is_inner(join):
                return None
            kept = [c for c in conjuncts(on) if answered(c)]
            join.set("on", exp.and_(*kept) if kept else exp.true())
        joins.append(join)
    base.set("joins", joins or None)
    where = select.args.get("where")
    terms = [c.copy() for c in conjuncts(where.this if where is not None else None)
             if answered(c) and c is not node.conjunct]
    terms += [g.copy() for g in node.guards if answered(g)]
    if terms:
        base.set("where", exp.Where(this=exp.and_(*terms)))
    args = [a.copy() for a in node.node.expressions]
    if node.grouped:
        if select.args.get("group"):
            base.set("group", select.args["group"].copy())
        having = select.args.get("having")
        kept = [c.copy() for c in conjuncts(having.this if having is not None else None)
                if answered(c)]
        if kept:
            base.set("having", exp.Having(this=exp.and_(*kept)))
    if node.limit_pushdown:
        items = [_placeholder(item) if udf_calls(item, names) else item.copy()
                 for item in select.expressions]
        items += [exp.alias_(a, ARG.format(i)) for i, a in enumerate(args)]
        base.set("expressions", items)
        if select.args.get("order") is not None:
            base.set("order", select.args["order"].copy())
        # The rows up to the LIMIT's end, those OFFSET skips included: the final statement
        # keeps only rows whose answers are known (physical.py), and OFFSET then skips the same.
        base.set("limit", exp.Limit(expression=exp.Literal.number(row_limit(select))))
        outer = exp.select(*[exp.column(ARG.format(i)) for i in range(len(args))])
        query = outer.from_(base.subquery("__infersql_rows"))
    else:
        query = base.select(*args, copy=False)
    if rows:
        query = exp.select(exp.Count(this=exp.Star())).from_(query.subquery("__infersql_all"))
    else:
        query = query.distinct()
        if node.stream_limit is not None and node.order == PREFIX:
            query = query.order_by(*_prompt_order(node, len(args)), copy=False)
    with_ = _visible_ctes(select, query)
    if with_:
        query.set("with_", exp.With(expressions=with_))
    if not answered(query):
        return None
    return query.sql(dialect="duckdb"), {n.name for n in udf_calls(query, names)}


def _prompt_order(node: LLMNode, n: int) -> list[exp.Expression]:
    """A streamed LIMIT reaches its rows in the driver's order (``executor.limit_stream``):
    sorted by the fields in the prompt's order, which is their prompts' text order (DuckDB
    compares text by code point, as Python does), so rows whose prompts share a prefix come
    together. DuckDB sorts 32k candidate pairs in a few ms; Python took 0.1-0.2 s. With
    per-group field orders (``field_order := 'auto'``) the sort follows the orders' leaf, so
    groups come in text order only by their leading fields."""
    orders = node.call.field_orders
    fields = orders.leaf if orders is not None else range(n)
    return [exp.Literal.number(i + 1) for i in fields]


def row_limit(select: exp.Select) -> int | None:
    """LIMIT plus OFFSET when both are constants (or absent); None otherwise."""
    total = 0
    for key in ("limit", "offset"):
        clause = select.args.get(key)
        if clause is None:
            continue
        value = clause.expression
        if not (isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit()):
            return None
        total += int(value.this)
    return total if select.args.get("limit") is not None else None


def _placeholder(item: exp.Expression) -> exp.Expression:
    """A select item whose value is an unanswered call: NULL under the same name, so that
    ORDER BY positions and other names keep their meaning."""
    name = item.alias_or_name if isinstance(item, exp.Alias) else None
    return exp.alias_(exp.null(), name) if name else exp.null()


def _visible_ctes(select: exp.Select, query: exp.Select) -> list[exp.CTE]:
    """The CTEs (of ``select`` and the queries around it) that ``query`` reads, with the ones
    those read, in their written order."""
    defined: list[exp.CTE] = []
    node = select
    while node is not None:
        w = node.args.get("with_") if isinstance(node, (exp.Select, exp.Union, exp.Query)) else None
        if w is not None:
            defined = list(w.expressions) + defined
        node = node.parent
    by_name = {c.alias_or_name: c for c in defined}
    needed: set[str] = set()
    todo = [t.name for t in query.find_all(exp.Table)]
    while todo:
        name = todo.pop()
        if name in by_name and name not in needed:
            needed.add(name)
            todo += [t.name for t in by_name[name].find_all(exp.Table)]
    return [c.copy() for c in defined if c.alias_or_name in needed]
