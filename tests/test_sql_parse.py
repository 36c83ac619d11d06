"""The rewrite from SQL with LLM calls to SQL with per-call UDFs (optimizer/parse.py), checked
without a model: what each call carries, and which statements stay untouched."""
from __future__ import annotations

import pytest

from executor.query_errors import BadCallError
from optimizer import mentions_llm, plan_statement


@pytest.mark.parametrize("sql, expected", [
    ("SELECT LLM('Q', x) FROM t", True),
    ("select llm_classify (1)", True),
    ('SELECT "LLM_FILTER"(x)', True),
    ("SELECT 'LLM(' || x AS s", False),                 # inside a string
    ("SELECT 1 -- LLM(x)\n", False),                   # inside a comment
    ("SELECT llm.x FROM llm", False),                  # a table named llm
    ("SELECT LLM_SCORE(x)", False),                    # not one of ours
    ("EXPLAIN SELECT LLM('Q', x) FROM t", True),        # a command: sqlglot keeps the rest whole
    ("EXPLAIN SELECT 'LLM(x)'", False),
])
def test_mentions_llm_reads_tokens(sql, expected):
    assert mentions_llm(sql) is expected


def test_calls_carry_instruction_fields_labels_and_options():
    planned = plan_statement(
        "SELECT id, LLM('Outer', LLM_FILTER('Inner', r.review), upper(title), max_tokens := 3, "
        "seed := 2, temperature := 0.5) FROM r "
        "WHERE LLM_CLASSIFY('Mood', ['a', 'b'], review, model := 'm') = 'a'")
    calls = {call.kind: (call, arity) for _, call, arity in planned.udfs}
    outer, arity = calls["llm"]
    assert arity == 2 and outer.instruction == "Outer"
    assert outer.field_names == ("LLM_FILTER('Inner', r.review)", "UPPER(title)")
    assert (outer.max_tokens, outer.seed, outer.temperature) == (3, 2, 0.5)
    inner, _ = calls["filter"]
    assert inner.field_names == ("review",) and inner.choices == ["yes", "no"]
    classify, arity = calls["classify"]
    assert arity == 1 and classify.labels == ("a", "b") and classify.model == "m"
    assert not mentions_llm(planned.sql)              # every call became a UDF call
    names = [name for name, _, _ in planned.udfs]
    assert all(name in planned.sql.lower() for name in names)
    assert names.index(next(n for n, c, _ in planned.udfs if c.kind == "filter")) < \
        names.index(next(n for n, c, _ in planned.udfs if c.kind == "llm"))   # inner first


def test_raw_form_and_explain():
    planned = plan_statement("EXPLAIN ANALYZE SELECT LLM('raw ' || x, max_tokens := 4) FROM t")
    assert planned.explain == "EXPLAIN ANALYZE" and planned.sql.startswith("EXPLAIN ANALYZE SELECT")
    (_, call, arity), = planned.udfs
    assert call.instruction is None and arity == 1 and call.max_tokens == 4
    assert call.render(["raw text"]) == "raw text" and call.render([None]) is None


def test_render_serializes_fields_and_nulls():
    (_, call, _), = plan_statement("SELECT LLM_CLASSIFY('Team?', ['billing', 'tech'], body, id) FROM t").udfs
    assert call.render(["charged twice", None]) == (
        "Team?\nbody: charged twice\nid: NULL\nAnswer with one of: billing, tech.\n")


def test_explain_after_leading_comments():
    planned = plan_statement("-- a header\n/* and a\n block */ explain  analyze SELECT LLM('Q', x) FROM t")
    assert planned.explain == "EXPLAIN ANALYZE" and planned.sql.startswith("EXPLAIN ANALYZE SELECT")
    assert len(planned.udfs) == 1


def test_unaliased_select_items_keep_the_call_text_as_column_name():
    planned = plan_statement("SELECT LLM_FILTER('Ok?', s), LLM('Q', s) AS named FROM t")
    assert "AS \"LLM_FILTER('Ok?', s)\"" in planned.sql and "AS named" in planned.sql


@pytest.mark.parametrize("sql, message", [
    ("SELECT LLM('Q', x, colour := 1)", "unknown option 'colour'"),
    ("SELECT LLM('Q', x, seed := 1.5)", "seed := takes an integer"),
    ("SELECT LLM('Q', x, model := 3)", "model := must be a string literal"),
    ("SELECT LLM_CLASSIFY('Q', x)", "needs its labels"),
    ("SELECT LLM_CLASSIFY('Q', [], x)", "distinct non-empty"),
    ("SELECT LLM(x, y)", "instruction (first argument) must be a string literal"),
    ("SELECT LLM(", "cannot parse"),
])
def test_bad_calls(sql, message):
    with pytest.raises(BadCallError) as info:
        plan_statement(sql)
    assert message in str(info.value)


def test_identical_calls_share_one_udf():
    planned = plan_statement("SELECT LLM_FILTER('Ok?', s), count(*) FROM t "
                             "GROUP BY LLM_FILTER('Ok?', s) HAVING LLM_FILTER('Ok?', upper(s))")
    assert len(planned.udfs) == 2
    name = planned.udfs[0][0] if planned.udfs[0][1].field_names == ("s",) else planned.udfs[1][0]
    assert planned.sql.upper().count(name.upper() + "(CAST(S AS TEXT))") == 2
