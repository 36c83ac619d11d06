"""SQL text -> statements with planned LLM calls. See DESIGN.md, 'One query, end to end'."""
from .parse import PlannedStatement, mentions_llm, plan_statement

__all__ = ["PlannedStatement", "mentions_llm", "plan_statement"]
