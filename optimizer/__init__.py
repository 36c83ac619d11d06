"""SQL text -> logical plan -> rules -> physical plan, and EXPLAIN. Each module's docstring
says what it does:

    parse.py      the statement with every LLM call found, checked and made a UDF call
    logical.py    LLM operators per SELECT scope, and which rows can reach each
    rules/        one rule a module, folded in order by optimize.py (RULES)
    physical.py   the executor's plan: operators with their driver queries, in run order
    planner.py    one statement's planning, as executor.statement.run_statement asks for it
    estimate.py   what each operator will cost (tokenizer, simulator, cost model)
    explain.py    EXPLAIN [ANALYZE] [(FORMAT JSON)]
"""
from .logical import build
from .optimize import optimize
from .parse import PlannedStatement, mentions_llm, plan_statement
from .rules import RULES

__all__ = ["PlannedStatement", "mentions_llm", "plan_statement", "build", "optimize", "RULES"]
