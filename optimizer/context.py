"""What the optimizer may consult while it plans: the database (to count and sample the rows
that reach a call), the runtime (the model's tokenizer, its cost model, and the engine for a
small sample of a predicate when nothing is known of its selectivity, never under plain
EXPLAIN), and the catalog's selectivity feedback.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from executor.llm_call import LLMCall
from executor.llm_runtime import LLMRuntime
from executor.statement_stats import StatementStats


@dataclass
class PlanningContext:
    con: duckdb.DuckDBPyConnection          # the statement's connection, its UDFs registered
    runtime: LLMRuntime
    feedback: object | None = None          # catalog.selectivity.SelectivityFeedback
    memos: dict[str, dict] = field(default_factory=dict)      # answers key -> prompt -> answer
    may_infer: bool = True                  # False under EXPLAIN: estimate, run nothing
    sample_size: int = 16
    sampled: dict[str, StatementStats] = field(default_factory=dict)   # call text -> its cost
    profiles: dict = field(default_factory=dict)       # (input sql, call) -> profile.Profile

    def binds(self, sql: str) -> bool:
        """Whether DuckDB can plan ``sql`` on its own (a correlated subquery's driver cannot)."""
        try:
            self.rows("EXPLAIN " + sql)
            return True
        except duckdb.Error:
            return False

    def rows(self, sql: str) -> list[tuple]:
        """All rows of ``sql``, with its result closed: DuckDB refuses other work on the
        connection (registering or removing a UDF too) while a result is unfinished."""
        rows = self.con.execute(sql).fetchall()
        self.con.abort()
        return rows

    def cost_model(self, call: LLMCall):
        return self.runtime.models.cost_model(call.model)

    def model_key(self, call: LLMCall) -> str:
        return self.runtime.models.cache_key(call.model)
