"""LLM predicates in the order that infers least: rank = cost per row / (1 - selectivity).

    WHERE LLM_FILTER('Is it about a dog?', review)        -- passes 5% of rows
      AND LLM_FILTER('Is it positive?', review)           -- passes 60%

runs the dog filter first, so the sentiment filter sees 5% of the rows. The rank is the
classic one for expensive predicates (Hellerstein and Stonebraker, "Predicate migration",
SIGMOD 1993): ascending cost per row divided by the share of rows a predicate removes.

Selectivity comes from the catalog's feedback on earlier runs of the same predicate. Without
it, and when the statement will run, the rule evaluates a small random sample of each
predicate's input first; the sample's answers are kept (in the statement's answers and the
result cache), so they are never inferred twice. Under plain EXPLAIN nothing is inferred:
a predicate without feedback keeps its written place, and EXPLAIN says so.
"""
from __future__ import annotations

from executor.llm_call import LLMCall
from executor.plan import DEFAULT_SELECTIVITY, TABLE
from executor.prefix_sharing import trie_tokens
from executor.statement_stats import StatementStats

from ..context import PlanningContext
from ..logical import LLMNode, LogicalPlan
from ..predicates import passing_answers
from ..profile import profile, spread

_TOKEN_SAMPLE = 256         # prompts tokenized to turn characters into tokens


def order_predicates(plan: LogicalPlan, ctx: PlanningContext) -> LogicalPlan:
    for scope in plan.scopes:
        for node in scope.predicates:
            _selectivity(node, plan, ctx, sample=len(scope.predicates) > 1)
        if len(scope.predicates) > 1:
            scope.predicates.sort(key=lambda n: rank(_cost_per_row(n, plan, ctx), n.selectivity))
    return plan


def rank(cost_per_row: float, selectivity: float) -> float:
    """Lower runs first. A predicate that removes nothing goes last."""
    if selectivity >= 1.0:
        return float("inf")
    return cost_per_row / (1.0 - selectivity)


def _selectivity(node: LLMNode, plan: LogicalPlan, ctx: PlanningContext, sample: bool) -> None:
    passes = passing_answers(node)
    known = None
    if passes is not None and ctx.feedback is not None:
        known = ctx.feedback.selectivity(ctx.model_key(node.call), feedback_key(node.call, passes))
    if known is not None:
        node.selectivity, node.selectivity_source = known, "feedback"
        return
    if sample and passes is not None and ctx.may_infer:
        measured = _sample(node, plan, ctx, passes)
        if measured is not None:
            node.selectivity, node.selectivity_source = measured, "sample"
            return
    node.selectivity, node.selectivity_source = DEFAULT_SELECTIVITY, "default"


def feedback_key(call: LLMCall, passes: tuple[str, ...]) -> str:
    """A predicate's name in the feedback table: the call as written and what passes."""
    return f"{call.sql} IN {sorted(passes)}"


def _sample(node: LLMNode, plan: LogicalPlan, ctx: PlanningContext, passes) -> float | None:
    found = profile(node, plan, ctx)
    if found is None or not found.prompts:
        return None
    memo = ctx.memos.setdefault(node.answers_key, {})
    picked = spread(found.prompts, ctx.sample_size)         # evenly spread, reproducible
    rows = spread(found.prompt_rows, ctx.sample_size)
    stats = ctx.sampled.setdefault(node.call.sql, StatementStats())
    ctx.runtime.answer(node.call, rows, stats, memo=memo, order=TABLE)
    return sum(memo[p] in passes for p in picked) / len(picked)


def _cost_per_row(node: LLMNode, plan: LogicalPlan, ctx: PlanningContext) -> float:
    """Tokens to compute per input row: the distinct prompts' tokens after prefix sharing,
    plus decoding, divided by the rows they serve. A predicate over a few values repeated on
    many rows (a movie's fields under each of its reviews) is cheap per row, since each
    distinct prompt is inferred once. The sharing is counted in characters, exactly, over
    every prompt (their prefix trie), and turned into tokens at the rate of a small sample:
    tokenizing every candidate of a predicate that may see only the survivors of another
    would cost more planning than the rank saves."""
    found = profile(node, plan, ctx)
    if found is None or not found.prompts or not found.input_rows:
        return 1.0
    sample = spread(found.prompts, _TOKEN_SAMPLE)
    per_char = sum(map(len, ctx.runtime.tokenize(node.call, sample))) / max(1, sum(map(len, sample)))
    decode = 1 if node.call.choices is not None else node.call.max_tokens
    total = trie_tokens(found.prompts) * per_char + decode * len(found.prompts)
    return total / found.input_rows
