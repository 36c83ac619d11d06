"""Bound parameters (``?``) where an LLM call needs a constant: instruction, labels, options.

DuckDB binds ``?`` to values at run time, but an LLM call's instruction, labels and options
shape the prompt and the decoding before any row is read, so they must be known when the
statement is planned. ``cur.execute("SELECT LLM_FILTER(?, body) FROM t", [question])`` is the
natural way to pass a user's question, and quoting it into the SQL by hand invites injection.
So those parameters are written into the statement as properly quoted literals, and the other
parameters (a ``WHERE i > ?``, a field argument) stay with DuckDB, in their order.

Tokens, not text: a ``?`` inside a string literal or a comment is not a parameter.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot.tokens import Token, TokenType

from executor.query_errors import BadCallError
from executor.llm_call import KINDS

from .parse import split_explain

_OPEN = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}
_NAMES = (TokenType.VAR, TokenType.IDENTIFIER)


def inline_call_parameters(sql: str, parameters: Sequence | None) -> tuple[str, list | None]:
    """``sql`` with every ``?`` that stands for an LLM call's constant replaced by its value
    as a SQL literal, and the parameters DuckDB still has to bind. A count mismatch is left
    for DuckDB to report."""
    if not parameters or isinstance(parameters, dict):
        return sql, parameters
    explain, sql = split_explain(sql)
    try:
        tokens = sqlglot.tokenize(sql, dialect="duckdb")
    except sqlglot.errors.TokenError:
        return explain + sql, list(parameters)
    marks = [i for i, t in enumerate(tokens) if t.token_type == TokenType.PLACEHOLDER]
    if len(marks) != len(parameters):
        return explain + sql, list(parameters)
    constant = _constant_marks(tokens)
    out, rest, cut = [], [], 0
    for mark, value in zip(marks, parameters):
        if mark not in constant:
            rest.append(value)
            continue
        token = tokens[mark]
        out += [sql[cut:token.start], literal(value)]
        cut = token.end + 1
    out.append(sql[cut:])
    return explain + "".join(out), rest


def literal(value) -> str:
    """A Python value as the SQL literal the call's parser reads back."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise BadCallError(f"a parameter for an LLM call's instruction, labels or options must be a "
                       f"string, number or list of strings, got {type(value).__name__}")


def _constant_marks(tokens: list[Token]) -> set[int]:
    """Indexes of the ``?`` tokens in constant positions of some LLM call."""
    found: set[int] = set()
    for i, (t, nxt) in enumerate(zip(tokens, tokens[1:])):
        if (t.token_type in _NAMES and t.text.upper() in KINDS
                and nxt.token_type == TokenType.L_PAREN):
            found |= _call_constants(tokens, i + 1, KINDS[t.text.upper()])
    return found


def _call_constants(tokens: list[Token], open_at: int, kind: str) -> set[int]:
    args = _split(tokens, open_at)
    positional = [a for a in args if not _is_option(tokens, a)]
    found = {a[2] for a in args if _is_option(tokens, a) and len(a) == 3 and _is_mark(tokens, a[2])}
    fields_from = 2 if kind == "classify" else 1
    if len(positional) > fields_from:             # not the raw form: the first is the instruction
        found |= _single_mark(tokens, positional[0])
    if kind == "classify" and len(positional) >= 2:
        labels = positional[1]
        found |= _single_mark(tokens, labels)      # the whole list as one parameter
        if len(labels) >= 2 and tokens[labels[0]].token_type == TokenType.L_BRACKET:
            for element in _split(tokens, labels[0]):
                found |= _single_mark(tokens, element)
    return found


def _split(tokens: list[Token], open_at: int) -> list[list[int]]:
    """Token indexes of each top-level comma-separated item inside the bracket at ``open_at``."""
    items: list[list[int]] = [[]]
    depth = 0
    for i in range(open_at + 1, len(tokens)):
        kind = tokens[i].token_type
        if kind in _CLOSE and depth == 0:
            break
        depth += (kind in _OPEN) - (kind in _CLOSE)
        if kind == TokenType.COMMA and depth == 0:
            items.append([])
        else:
            items[-1].append(i)
    return [item for item in items if item]


def _is_option(tokens: list[Token], arg: list[int]) -> bool:
    return len(arg) >= 2 and tokens[arg[1]].token_type == TokenType.COLON_EQ


def _is_mark(tokens: list[Token], i: int) -> bool:
    return tokens[i].token_type == TokenType.PLACEHOLDER


def _single_mark(tokens: list[Token], arg: list[int]) -> set[int]:
    return {arg[0]} if len(arg) == 1 and _is_mark(tokens, arg[0]) else set()


def inline_all_parameters(sql: str, parameters: Sequence | None) -> str | None:
    """``sql`` with every ``?`` written as its value's literal, so the optimizer can run parts
    of the statement (the queries that compute an LLM operator's rows) on their own; None when
    that cannot be done (named parameters, a count mismatch, a value with no literal form):
    the statement then runs unplanned, with DuckDB binding the values."""
    if not parameters:
        return sql
    if isinstance(parameters, dict):
        return None
    explain, sql = split_explain(sql)
    try:
        tokens = sqlglot.tokenize(sql, dialect="duckdb")
        marks = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER]
        if len(marks) != len(parameters) or any(t.text != "?" for t in marks):
            return None
        out, cut = [], 0
        for token, value in zip(marks, parameters):
            out += [sql[cut:token.start], literal(value)]
            cut = token.end + 1
    except (sqlglot.errors.TokenError, BadCallError):
        return None
    out.append(sql[cut:])
    return explain + "".join(out)
