"""The logical plan: where each LLM call sits in the query, and which rows can reach it.

A statement is a set of SELECT scopes (the main query, CTEs, subqueries, UNION branches). In
each scope the rows flow  FROM/JOIN -> relational predicates -> LLM predicates -> grouping ->
LLM projections -> ORDER BY/LIMIT, and every LLM call is an operator node there::

    SELECT title, LLM('Summarize', review) AS gist          -- projection (after the filters)
    FROM reviews JOIN movies USING (link)                   -- the scope's input
    WHERE topcritic                                         -- relational predicate
      AND LLM_FILTER('Praises the acting?', review)         -- LLM predicate
    ORDER BY title LIMIT 10                                 -- the projection needs 10 rows only

Each node keeps its place in the rewritten sqlglot tree (the call is already a UDF call there),
so the rules can decide what runs before it, and ``drivers.py`` can write the query that
computes exactly the argument tuples of the rows that reach it. A call the optimizer cannot
plan (a correlated subquery, an outer join's ON, sampling without a seed) is kept with the
reason, and runs lazily, row chunk by row chunk, as DuckDB meets it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlglot import exp

from executor.llm_call import LLMCall
from executor.plan import PREDICATE, PROJECTION, TABLE, Estimate

_names = itertools.count()


@dataclass
class LLMNode:
    """One occurrence of an LLM call: an operator of the logical plan."""

    binding: str                  # the UDF name this occurrence calls in the final query
    call: LLMCall
    node: exp.Anonymous           # the UDF call in the tree
    scope: "ScopeNode"
    role: str                     # PREDICATE (a conjunct of WHERE or of an inner join's ON)
    place: str                    # where, on, select, group, having, order, qualify, ...
    conjunct: exp.Expression | None = None          # the predicate it decides
    guards: list[exp.Expression] = field(default_factory=list)   # CASE/IF conditions
    grouped: bool = False         # its arguments are aggregates: one row per group
    lazy_reason: str | None = None
    # decided by the rules:
    limit_pushdown: bool = False  # ORDER BY/LIMIT apply before it
    stream_limit: int | None = None   # stop once this many rows passed
    order: str = TABLE            # PREFIX: rows sorted for prefix sharing
    answers_key: str = ""         # occurrences with one key share one set of answers
    selectivity: float | None = None
    selectivity_source: str = ""
    estimate: Estimate = field(default_factory=Estimate)

    def __post_init__(self) -> None:
        self.answers_key = self.answers_key or self.binding

    @property
    def planned(self) -> bool:
        return self.lazy_reason is None


@dataclass
class ScopeNode:
    """One SELECT: its relational predicates and its LLM operators, in plan order."""

    select: exp.Select
    relational: list[exp.Expression] = field(default_factory=list)
    predicates: list[LLMNode] = field(default_factory=list)     # in evaluation order
    projections: list[LLMNode] = field(default_factory=list)

    @property
    def nodes(self) -> list[LLMNode]:
        return self.predicates + self.projections


@dataclass
class LogicalPlan:
    tree: exp.Expression
    calls: dict[str, tuple[LLMCall, int]]        # UDF name -> (call, arity)
    scopes: list[ScopeNode]                      # inner scopes first
    lazy: list[LLMNode]                          # occurrences that run lazily
    explain: str = ""
    reorder_fields: bool = False

    @property
    def nodes(self) -> list[LLMNode]:
        return [n for s in self.scopes for n in s.nodes]


def conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    """The top-level AND terms of a condition (parentheses looked through)."""
    if condition is None:
        return []
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return [c for part in condition.flatten() for c in conjuncts(part)]
    return [condition]


def owning_select(node: exp.Expression) -> exp.Select | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    return parent


def udf_calls(expression: exp.Expression, names, own_scope: exp.Select | None = None) -> list:
    """The UDF calls in ``expression``; with ``own_scope``, only those of that SELECT (not of
    subqueries nested in it)."""
    found = [n for n in expression.find_all(exp.Anonymous) if n.name in names]
    if own_scope is not None:
        found = [n for n in found if owning_select(n) is own_scope]
    return found


def build(tree: exp.Expression, udfs: list[tuple[str, LLMCall, int]], explain: str = "",
          reorder_fields: bool = False) -> LogicalPlan:
    """The logical plan of a rewritten statement (see ``optimizer.parse.plan_statement``)."""
    calls = {name: (call, arity) for name, call, arity in udfs}
    scopes: dict[int, ScopeNode] = {}
    order: list[ScopeNode] = []
    lazy: list[LLMNode] = []
    occurrences = [n for n in _postorder(tree) if isinstance(n, exp.Anonymous) and n.name in calls]
    roles: dict[str, set[str]] = {}
    placed: list[tuple[LLMNode, exp.Select | None]] = []
    for node in occurrences:
        call, _ = calls[node.name]
        select = owning_select(node)
        place, role, conjunct, guards, why = _locate(node, select)
        scope = scopes.get(id(select)) if select is not None else None
        if select is not None and scope is None:
            scope = scopes[id(select)] = ScopeNode(select)
        n = LLMNode(node.name, call, node, scope, role, place, conjunct, guards,
                    grouped=_aggregated(node), lazy_reason=why)
        if n.lazy_reason is None and not call.deterministic:
            n.lazy_reason = "sampling without a seed: every row draws its own answer"
        roles.setdefault(node.name, set()).add(role if n.planned else "lazy")
        placed.append((n, select))
    for n, select in placed:
        if not n.planned:
            lazy.append(n)
            continue
        if n.role == PREDICATE and len(roles[n.binding]) > 1:
            _own_name(n, calls)        # a NULL for a row the plan excluded must stay in WHERE
        (n.scope.predicates if n.role == PREDICATE else n.scope.projections).append(n)
    for select in _inner_first(tree):
        if id(select) in scopes:
            order.append(scopes[id(select)])
    return LogicalPlan(tree, calls, order, lazy, explain, reorder_fields)


def _own_name(n: LLMNode, calls: dict) -> None:
    """Give a predicate occurrence of a call that also appears elsewhere a UDF of its own
    (same call, same answers), so that it may read NULL for a row the plan excluded while
    the other occurrences compute such a row."""
    name = f"{n.binding}_w{next(_names)}"
    calls[name] = calls[n.binding]
    n.node.set("this", name)
    n.binding = name


def _locate(node: exp.Expression, select: exp.Select | None):
    """(place, role, conjunct, guards, lazy reason) of a call within its SELECT."""
    if select is None:
        return "statement", PROJECTION, None, [], "not inside a SELECT (e.g. UPDATE ... SET)"
    guards: list[exp.Expression] = []
    child = node
    while child.parent is not select:
        parent = child.parent
        guards += _branch_guards(parent, child)
        child = parent
    place = child.arg_key
    if place == "expressions":
        place = "select"
    if place == "joins":
        join = child
        condition = join.args.get("on")
        if condition is None or not _inside(node, condition):
            return "join", PROJECTION, None, guards, "an LLM call in a join's USING or table"
        if not is_inner(join):
            return "on", PROJECTION, None, guards, "an LLM call in the ON of an outer join"
        place, terms = "on", conjuncts(condition)
    elif place == "where":
        terms = conjuncts(select.args["where"].this)
    else:
        if place in ("from_", "limit", "offset", "with_"):
            return place, PROJECTION, None, guards, f"an LLM call in {place.upper()}"
        return place, PROJECTION, None, guards, None
    conjunct = next(t for t in terms if _inside(node, t))
    return place, PREDICATE, conjunct, [g for g in guards if _inside(g, conjunct)], None


def is_inner(join: exp.Join) -> bool:
    return not join.side and (join.kind or "").upper() in ("", "INNER")


def _inside(node: exp.Expression, container: exp.Expression) -> bool:
    while node is not None:
        if node is container:
            return True
        node = node.parent
    return False


def _branch_guards(parent: exp.Expression, child: exp.Expression) -> list[exp.Expression]:
    """The conditions under which ``child`` of a CASE or IF is evaluated at all."""
    def false(c: exp.Expression) -> exp.Expression:
        return exp.not_(exp.func("coalesce", c.copy(), exp.false()))

    if isinstance(parent, exp.If) and child.arg_key == "true":
        return [parent.this.copy()]
    if isinstance(parent, exp.If) and child.arg_key == "false":
        return [false(parent.this)]
    if isinstance(parent, exp.Case):
        ifs = parent.args.get("ifs") or []
        if child.arg_key == "default":
            return [false(i.this) for i in ifs]
        if child in ifs:
            return [false(i.this) for i in ifs[:ifs.index(child)]]
    return []


def _aggregated(node: exp.Expression) -> bool:
    """Whether the call's arguments are aggregates (it then runs once per group)."""
    for agg in node.find_all(exp.AggFunc):
        if not any(isinstance(p, exp.Window) for p in _ancestors(agg, node)):
            return True
    return False


def _ancestors(node: exp.Expression, stop: exp.Expression):
    node = node.parent
    while node is not None and node is not stop:
        yield node
        node = node.parent


def needs_every_row(select: exp.Select) -> bool:
    """Whether something between WHERE and LIMIT reads every row (DISTINCT, GROUP BY, HAVING,
    QUALIFY, an aggregate or a window in the select list), so a LIMIT cannot apply early."""
    if select.args.get("distinct") or select.args.get("group"):
        return True
    if select.args.get("qualify") is not None or select.args.get("having") is not None:
        return True
    return any(isinstance(e, (exp.AggFunc, exp.Window)) for item in select.expressions
               for e in item.find_all(exp.AggFunc, exp.Window))


def predicate_terms(select: exp.Select) -> list[exp.Expression]:
    """The scope's WHERE conjuncts and the ON conjuncts of its inner joins."""
    where = select.args.get("where")
    terms = conjuncts(where.this) if where is not None else []
    for join in select.args.get("joins") or []:
        if is_inner(join) and join.args.get("on") is not None:
            terms += conjuncts(join.args["on"])
    return terms


def _inner_first(tree: exp.Expression) -> list[exp.Select]:
    """Every SELECT, each after the SELECTs nested in it; CTEs before the query that reads
    them (they are nested in its WITH, which is visited first)."""
    out: list[exp.Select] = []

    def visit(e: exp.Expression) -> None:
        for key in _visit_order(e):
            value = e.args.get(key)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, exp.Expression):
                    visit(child)
        if isinstance(e, exp.Select):
            out.append(e)

    visit(tree)
    return out


def _postorder(e: exp.Expression):
    """Nodes in written order, each after the nodes inside it: a call nested in another
    call's arguments comes first, since the outer call's input reads its answers."""
    for child in e.iter_expressions():
        yield from _postorder(child)
    yield e


def _visit_order(e: exp.Expression) -> list[str]:
    keys = list(e.args)
    if "with_" in keys:
        keys.remove("with_")
        keys.insert(0, "with_")
    return keys
