"""The physical plan the optimizer hands the executor: LLM operators in the order they run,
then the user's statement with every planned call bound to its operator's answers.

Each operator names a DuckDB query (its *driver*) that yields the argument tuples of exactly
the rows that reach the call: the scope's relational predicates, and the LLM predicates that
ran before it, already answered. The runtime answers those rows (``LLMRuntime.answer``). The
operator records estimates (from the optimizer) and actuals (from the run) side by side:
EXPLAIN ANALYZE prints both. Everything EXPLAIN needs is a named field here, written as the
user wrote it; the plan keeps no reference back into the optimizer's logical plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .llm_call import LLMCall
from .statement_stats import StatementStats

PREDICATE, PROJECTION = "predicate", "projection"
PREFIX, TABLE = "prefix", "table"          # request order: sorted for prefix sharing, or as read
DEFAULT_SELECTIVITY = 0.5                   # a predicate's share of passing rows, if unknown


@dataclass
class Estimate:
    """What the optimizer expects an operator to cost (None: not estimated)."""

    rows: int | None = None                 # input rows that reach the call
    distinct: int | None = None             # distinct prompts among them
    cache_hits: int | None = None           # of those, answered by the result cache
    prompt_tokens: int | None = None        # of the prompts still to infer
    cached_tokens: int | None = None        # expected from the prefix cache in plan order
    decode_tokens: int | None = None
    seconds: float | None = None
    kv_bytes: int | None = None
    exact_rows: bool = False                # rows and distinct were counted, not guessed
    hit_rate_table: float | None = None     # prefix hit rates: table order,
    hit_rate_planned: float | None = None   # the plan's order,
    hit_rate_bound: float | None = None     # every distinct prefix computed once,
    hit_rate_fields_auto: float | None = None   # with the fields reordered too (lines),
    hit_rate_fields_ggr: float | None = None    # with GGR's field orders,
    hit_rate_fields_bound: float | None = None  # no field order shares more
    workers: list[dict] | None = None       # scale-out: each worker's share (projection.py)


@dataclass(frozen=True)
class EngineView:
    """The engine an estimate was simulated on: its settings, cost model and KV pool."""

    config: object                  # executor.engine.EngineConfig
    cost_model: object              # executor.engine.cost_model.CostModel
    kv_blocks: int


@dataclass(frozen=True)
class OperatorScope:
    """The SELECT an operator belongs to, for EXPLAIN: operators of one scope form a chain
    above its relational input."""

    key: int                        # equal for the operators of one SELECT
    name: str                       # "query", "CTE name", "subquery", "UNION branch"
    input: str                      # FROM ... JOIN ... WHERE <relational>, as written


@dataclass
class LLMOperator:
    binding: str                     # the UDF name the final statement calls
    call: LLMCall
    role: str                        # PREDICATE or PROJECTION
    driver_sql: str                  # SELECT DISTINCT <call arguments> FROM ... WHERE ...
    reads: frozenset[str]            # UDFs the driver reads: earlier operators' answers
    scope: OperatorScope
    predicate: str | None = None     # the conjunct it decides, as written (predicates)
    passes: tuple[str, ...] | None = None   # answers that let a row through the predicate
    selectivity: float | None = None        # share of rows passing, and where it came from:
    selectivity_source: str = ""            # "feedback", "sample" or "default"
    order: str = PREFIX
    stream_limit: int | None = None  # stop once this many distinct prompts passed
    limit_pushdown: bool = False     # its input is the rows ORDER BY ... LIMIT keeps
    independent_sql: tuple[str, str] | None = None   # (rows, count) of its input as if no LLM
                                                     # operator ran before it (for estimates)
    estimate: Estimate = field(default_factory=Estimate)
    engine: EngineView | None = None         # set when the estimate simulated the engine
    actual: StatementStats = field(default_factory=StatementStats)
    actual_rows: int | None = None   # driver rows
    actual_distinct: int | None = None   # distinct prompts (a streamed LIMIT: those it reached)
    actual_passed: int | None = None # driver rows the predicate let through
    prompts: list[str] = field(default_factory=list)   # the distinct prompts it answered


@dataclass
class PhysicalPlan:
    final_sql: str                                   # the user's statement, calls as UDFs
    calls: dict[str, tuple[LLMCall, int]]            # UDF name -> (call, arity)
    operators: list[LLMOperator] = field(default_factory=list)   # in execution order
    on_miss: dict[str, str] = field(default_factory=dict)   # planned UDF -> "null" or "lazy"
    memo_key: dict[str, str] = field(default_factory=dict)  # UDF name -> its answers' key
    memos: dict[str, dict] = field(default_factory=dict)    # key -> prompt -> answer text
    lazy: dict[str, str] = field(default_factory=dict)      # unplanned UDF -> why
    members: dict[str, str] = field(default_factory=dict)   # membership UDF -> the call's UDF
    planned: bool = True                             # False: optimizer off, all lazy
    explain: str = ""
    sampled: StatementStats = field(default_factory=StatementStats)   # samples of calls that
                                                     # were then left lazy: no operator owns them

    def memo(self, op: LLMOperator) -> dict[str, str | None]:
        """The answers an operator fills (shared by every occurrence of its call)."""
        return self.memos.setdefault(self.memo_key[op.binding], {})

    def operator(self, binding: str) -> LLMOperator | None:
        return next((op for op in self.operators if op.binding == binding), None)
