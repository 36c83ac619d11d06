"""The physical plan the optimizer hands the executor: LLM operators in the order they run,
then the user's statement with every planned call bound to its operator's answers.

Each operator names a DuckDB query (its *driver*) that yields the argument tuples of exactly
the rows that reach the call: the scope's relational predicates, and the LLM predicates that
ran before it, already answered. The executor renders those rows' prompts, drops duplicates
and what the result cache knows, orders the rest for prefix sharing, and runs them as one
engine request list. The operator records estimates (from the optimizer) and actuals (from the
run) side by side: EXPLAIN ANALYZE prints both.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .llm_call import LLMCall
from .statement_stats import StatementStats


@dataclass
class LLMOperator:
    binding: str                     # the UDF name the final statement calls
    call: LLMCall
    driver_sql: str                  # SELECT DISTINCT <call arguments> FROM ... WHERE ...
    role: str                        # "predicate" or "projection"
    order: str = "prefix"            # "prefix": sorted for prefix sharing; "table": as read
    stream_limit: int | None = None  # stop once this many distinct prompts passed
    passes: tuple[str, ...] | None = None   # answers that let a row through the predicate
    estimate: object = None          # optimizer.logical.Estimate
    details: dict = field(default_factory=dict)   # what EXPLAIN shows about the choice
    actual: StatementStats = field(default_factory=StatementStats)
    actual_rows: int | None = None   # driver rows
    actual_distinct: int | None = None


@dataclass
class PhysicalPlan:
    final_sql: str                                   # the user's statement, calls as UDFs
    calls: dict[str, tuple[LLMCall, int]]            # UDF name -> (call, arity)
    operators: list[LLMOperator]                     # in execution order
    on_miss: dict[str, str]                          # planned UDF -> "null" or "lazy"
    memo_key: dict[str, str]                         # UDF name -> its answers' key
    memos: dict[str, dict] = field(default_factory=dict)   # key -> prompt -> answer text
    lazy: dict[str, str] = field(default_factory=dict)     # unplanned UDF -> why
    members: dict[str, str] = field(default_factory=dict)  # membership UDF -> the call's UDF
    planned: bool = True                             # False: optimizer off, all lazy
    explain: str = ""
