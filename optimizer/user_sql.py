"""Parts of a plan as the user wrote them: the physical plan and EXPLAIN show calls as
written, never as the internal UDF names the statement was rewritten to."""
from __future__ import annotations

import sqlglot
from sqlglot import exp

from .logical import LLMNode, conjuncts


def user_sql(e: exp.Expression | None, names: dict[str, str]) -> str:
    """SQL text with every internal UDF call (``names``: UDF name -> call as written) shown
    as the call the user wrote."""
    if e is None:
        return ""
    e = e.copy()
    for n in list(e.find_all(exp.Anonymous)):
        if n.name in names:
            replacement = sqlglot.parse_one(names[n.name], dialect="duckdb")
            if n is e:
                return replacement.sql(dialect="duckdb")
            n.replace(replacement)
    return e.sql(dialect="duckdb")


def scope_name(select: exp.Select) -> str:
    parent = select.parent
    if isinstance(parent, exp.CTE):
        return f"CTE {parent.alias_or_name}"
    if isinstance(parent, exp.Subquery):
        return "subquery"
    if isinstance(parent, exp.Union):
        return "UNION branch"
    return "query"


def scope_input(node: LLMNode, names: dict[str, str]) -> str:
    """The scope's relational input: FROM, its joins, and the relational WHERE conjuncts."""
    s = node.scope.select
    parts = []
    if s.args.get("from_") is not None:
        parts.append(user_sql(s.args["from_"], names))
    for join in s.args.get("joins") or []:
        parts.append(user_sql(join, names))
    relational = node.scope.relational
    where = [c for c in conjuncts(s.args["where"].this)] if s.args.get("where") else []
    kept = [c for c in where if any(c is r for r in relational)]
    if kept:
        parts.append("WHERE " + " AND ".join(user_sql(c, names) for c in kept))
    return " ".join(parts) or "(no table)"
