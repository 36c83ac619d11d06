"""The LLM functions of the SQL surface, one record each: the single table that the parser,
the UDFs and the prompt renderer all read, so a new function is one new entry here.

``LLM_FILTER`` and ``LLM_CLASSIFY`` decode under constraint (the engine scores a fixed set of
answers), which is why their answers never need parsing and why a filter costs one forward pass.
``LLM_EXTRACT`` turns text into a record: its ``returns := 'STRUCT(...)'`` is both the answer's
type (decoded under its grammar) and the spec its prompt closes with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import sql_types


@dataclass(frozen=True)
class FunctionKind:
    sql_name: str                                   # as written in SQL
    kind: str                                       # short name used in plans and UDF names
    sql_type: str                                   # DuckDB return type
    takes_labels: bool                              # second argument is a list of labels
    choices: Callable[[tuple[str, ...]], list[str] | None]   # constrained answers, or free text
    hint: Callable[[tuple[str, ...], str | None], str | None]   # (labels, returns) -> the
                                                    # answer hint line closing the prompt
    decode: Callable[[str], object]                 # stored answer text -> SQL value


KINDS_TABLE = (
    FunctionKind("LLM", "llm", "VARCHAR", False,
                 choices=lambda labels: None, hint=lambda labels, returns: None,
                 decode=lambda t: t),
    FunctionKind("LLM_FILTER", "filter", "BOOLEAN", False,
                 choices=lambda labels: ["yes", "no"],
                 hint=lambda labels, returns: "Answer yes or no.", decode=lambda t: t == "yes"),
    FunctionKind("LLM_CLASSIFY", "classify", "VARCHAR", True,
                 choices=lambda labels: list(labels),
                 hint=lambda labels, returns: "Answer with one of: " + ", ".join(labels) + ".",
                 decode=lambda t: t),
    FunctionKind("LLM_EXTRACT", "extract", "STRUCT", False,
                 choices=lambda labels: None,
                 hint=lambda labels, returns: sql_types.record_hint(returns),
                 decode=lambda t: t),
)
BY_SQL_NAME = {k.sql_name: k for k in KINDS_TABLE}
BY_KIND = {k.kind: k for k in KINDS_TABLE}
KINDS = {k.sql_name: k.kind for k in KINDS_TABLE}      # SQL name -> kind
