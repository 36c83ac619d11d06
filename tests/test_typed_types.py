"""Typed answers, the SQL half: a DuckDB type as the JSON schema the engine decodes under, the
answer's JSON back as the type's value, and the errors a bad typed call gets."""
from __future__ import annotations

import datetime
import decimal
import json
import re

import duckdb
import pytest

from executor.query_errors import BadCallError
from executor.sql_types import CastFailure, arrow_type, json_schema, value_of
from optimizer.parse import plan_statement


@pytest.mark.parametrize("type_text, schema", [
    ("BOOLEAN", {"type": "boolean"}),
    ("TINYINT", {"type": "integer", "minimum": -128, "maximum": 127}),
    ("BIGINT", {"type": "integer", "minimum": -2**63, "maximum": 2**63 - 1}),
    # the grammar library's integers are 64-bit: the widest types answer within BIGINT's range
    ("HUGEINT", {"type": "integer", "minimum": -2**63, "maximum": 2**63 - 1}),
    ("UBIGINT", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
    ("DOUBLE", {"type": "number", "exclusiveMinimum": -10**15, "exclusiveMaximum": 10**15}),
    ("DECIMAL(8,2)", {"type": "number", "exclusiveMinimum": -10**6, "exclusiveMaximum": 10**6}),
    ("VARCHAR(5)", {"type": "string", "maxLength": 5}),
    ("ENUM('red', 'green')", {"enum": ["red", "green"]}),
    ("INTEGER[]", {"type": "array", "maxItems": 16,     # a list's default bound
                   "items": {"type": "integer", "minimum": -2**31, "maximum": 2**31 - 1}}),
    ("BOOLEAN[3]", {"type": "array", "items": {"type": "boolean"}, "minItems": 3, "maxItems": 3}),
    ("STRUCT(name VARCHAR(12), tags VARCHAR(5)[])",     # DuckDB drops these lengths; kept
     {"type": "object", "additionalProperties": False, "required": ["name", "tags"],
      "properties": {"name": {"anyOf": [{"type": "string", "maxLength": 12}, {"type": "null"}]},
                     "tags": {"anyOf": [{"type": "array", "maxItems": 16,
                                         "items": {"type": "string", "maxLength": 5}},
                                        {"type": "null"}]}}}),
    ("STRUCT(name VARCHAR, tags VARCHAR[])",             # the default bounds, inside too
     {"type": "object", "additionalProperties": False, "required": ["name", "tags"],
      "properties": {"name": {"anyOf": [{"type": "string", "maxLength": 64}, {"type": "null"}]},
                     "tags": {"anyOf": [{"type": "array", "maxItems": 16,
                                         "items": {"type": "string", "maxLength": 64}},
                                        {"type": "null"}]}}}),
])
def test_each_type_becomes_the_schema_that_keeps_an_answer_inside_it(type_text, schema):
    assert json.loads(json_schema(type_text)) == schema


@pytest.mark.parametrize("type_text, text, value", [
    ("BOOLEAN", "true", True),
    ("INTEGER", "1999", 1999),
    ("DOUBLE", "2.5", 2.5),
    ("DECIMAL(8,2)", "19.99", decimal.Decimal("19.99")),
    ("DECIMAL(8,2)", "3.14159", decimal.Decimal("3.14")),
    ("DATE", '"2023-02-28"', datetime.date(2023, 2, 28)),
    ("TIMESTAMP", '"2023-02-28 10:30:00"', datetime.datetime(2023, 2, 28, 10, 30)),
    ("ENUM('red', 'green')", '"green"', "green"),
    ("INTEGER[]", "[1,2,3]", [1, 2, 3]),
    ("BOOLEAN[2]", "[true, false]", [True, False]),
    ("STRUCT(name VARCHAR, born DATE)", '{"name":"Ada","born":null}', {"name": "Ada", "born": None}),
    ("VARCHAR", '"a\x0bb"', "a\x0bb"),                # a raw control character the grammar admits
])
def test_answers_read_back_as_their_type(type_text, text, value):
    assert value_of(text, type_text) == value
    con = duckdb.connect()                         # the value is what DuckDB holds in that type
    got = con.execute(f"SELECT ?::{type_text}", [value]).fetchall()[0][0]
    got = list(got) if isinstance(got, tuple) else got     # DuckDB gives an ARRAY as a tuple
    assert got == value and con.sql(f"SELECT NULL::{type_text}").arrow().schema.field(0).type \
        == arrow_type(type_text)


def test_a_date_answer_is_a_day_that_exists():
    """DATE's pattern against the calendar, every month and day number of years that test the
    leap rule (4, 100, 400) and the ends of the range."""
    pattern = re.compile(json.loads(json_schema("DATE"))["pattern"])
    for year in (1, 4, 99, 100, 400, 1000, 1900, 2000, 2023, 2024, 2100, 9996, 9999):
        for month in range(0, 14):
            for day in range(0, 33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    exists = bool(datetime.date(year, month, day))
                except ValueError:
                    exists = False
                assert bool(pattern.match(text)) == exists, text
    assert not pattern.match("0000-01-01")          # no year 0, which Python's dates lack


@pytest.mark.parametrize("type_text, text", [
    ("DATE", '"2023-02-30"'),                      # not a day (the grammar does not admit it either)
    ("TINYINT", "300"),
    ("DECIMAL(6,2)", "1e999"),                     # a JSON number no DECIMAL(6,2) holds
    ("DECIMAL(6,2)", "123456.7"),
    ("INTEGER", '{"a":'),                          # cut short by max_tokens
])
def test_an_answer_its_type_cannot_hold_is_a_cast_failure(type_text, text):
    with pytest.raises(CastFailure):
        value_of(text, type_text)


@pytest.mark.parametrize("sql, message", [
    ("SELECT LLM('Year?', t, returns := 'NOSUCHTYPE') FROM x", "Type with name nosuchtype does not exist"),
    ("SELECT LLM('Year?', t, returns := 'TIME') FROM x", "typed answers support"),
    ("SELECT LLM('Year?', t, returns := 'MAP(VARCHAR, INTEGER)') FROM x", "typed answers support"),
    ("SELECT LLM_FILTER('Old?', t, returns := 'INTEGER') FROM x", "LLM_FILTER takes no returns :="),
    ("SELECT LLM_CLASSIFY('Kind?', ['a'], t, returns := 'INTEGER') FROM x", "LLM_CLASSIFY takes no returns :="),
    ("SELECT LLM_CLASSIFY('Kind?', ['a'], t, json_schema := '{}') FROM x", "takes no json_schema :="),
    ("SELECT LLM('Year?', t, json_schema := '{\"type\": ') FROM x", "json_schema := is not valid JSON"),
    ("SELECT LLM('Year?', t, json_schema := '[1]') FROM x", "must be a JSON object"),
    # what the grammar library rejects, in its words (checked at plan time, before any inference)
    ("SELECT LLM('Year?', t, json_schema := '{\"type\": \"nosuchtype\"}') FROM x",
     'json_schema := is not usable: the grammar library rejects it: Unsupported type "nosuchtype"'),
    ("SELECT LLM('Year?', t, json_schema := '{\"type\": \"integer\", \"minimum\": \"x\"}') FROM x",
     "must be a number"),
    ("SELECT LLM('Year?', t, returns := 'INTEGER', json_schema := '{}') FROM x", "not both"),
    ("SELECT LLM('Year?', t, returns := 'INTEGER', on_error := 'ignore') FROM x", "on_error :="),
])
def test_bad_typed_calls_are_named(sql, message):
    with pytest.raises(BadCallError) as info:
        plan_statement(sql)
    assert message.lower() in str(info.value).lower() and str(info.value).startswith("LLM")


def test_the_type_is_part_of_the_call_and_its_cache_key():
    typed = plan_statement("SELECT LLM('Year?', t, returns := 'INTEGER') FROM x").udfs[0][1]
    plain = plan_statement("SELECT LLM('Year?', t) FROM x").udfs[0][1]
    assert typed.options_key() != plain.options_key() and typed.sql_type == "INTEGER"
    assert typed.expected_tokens < typed.max_tokens       # EXPLAIN estimates a short answer


def test_llm_extract_asks_for_its_record_and_needs_a_struct():
    call = plan_statement("SELECT LLM_EXTRACT('Who moved where?', note, "
                          "returns := 'STRUCT(name VARCHAR, year SMALLINT)') FROM t").udfs[0][1]
    assert call.kind == "extract" and call.sql_type == 'STRUCT("name" VARCHAR, "year" SMALLINT)'
    assert call.render(["Maria went to Lisbon."]) == (
        "Who moved where?\nnote: Maria went to Lisbon.\n"
        "Answer with a JSON object: name (VARCHAR), year (SMALLINT), or null where not given.\n")
    for sql in ("SELECT LLM_EXTRACT('Who?', note) FROM t",
                "SELECT LLM_EXTRACT('Who?', note, returns := 'INTEGER') FROM t"):
        with pytest.raises(BadCallError, match="LLM_EXTRACT needs returns := 'STRUCT"):
            plan_statement(sql)
