"""A typed answer's token budget: its grammar's longest document, in bytes (every token writes at
least one byte). Counted by hand for small types; unbounded grammars are recognised; a call's
max_tokens defaults to the bound, and one too small for its type is an error at plan time."""
from __future__ import annotations

import json

import pytest

from executor import schema_bounds
from executor.engine.grammar import max_document_tokens
from executor.query_errors import BadCallError
from executor.sql_types import json_schema
from optimizer.parse import plan_statement
from optimizer.typed_options import UNBOUNDED_SCHEMA_TOKENS


@pytest.mark.parametrize("type_text, longest", [
    ("BOOLEAN", ' false'),
    ("TINYINT", ' -128'),
    ("INTEGER", ' -2147483648'),
    ("DATE", ' "2023-12-31"'),
    ("ENUM('red', 'green')", ' "green"'),
    ("VARCHAR(3)", ' "' + "\U0001F600" * 3 + '"'),              # 4 bytes a character
    ("BOOLEAN[2]", ' [false, false]'),
    ("STRUCT(a BOOLEAN, b VARCHAR(2))", ' {"a": false, "b": "' + "\U0001F600" * 2 + '"}'),
])
def test_the_bound_is_the_longest_document_in_bytes(type_text, longest):
    """The grammar's one optional leading space is part of it."""
    assert max_document_tokens(json_schema(type_text)) == len(longest.encode())


@pytest.mark.parametrize("schema, longest", [
    ({"type": "string", "pattern": "^[a-c]{2}x$"}, ' "abx"'),
    ({"type": "string", "format": "date"}, ' "2023-12-31"'),
    ({"enum": ['a"b', 3, None]}, ' "a\\"b"'),
    ({"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 2},
     " [false, false]"),
])
def test_bounds_of_json_schemas(schema, longest):
    assert max_document_tokens(json.dumps(schema)) == len(longest.encode())


@pytest.mark.parametrize("schema", [
    {"type": "string"},
    {"type": "integer"},
    {"type": "array", "items": {"type": "boolean"}},
    {"type": "object"},
    {"type": "string", "pattern": "^a+$"},
    {"type": "object", "additionalProperties": {"type": "boolean"}},
])
def test_an_unbounded_grammar_has_no_bound(schema):
    assert max_document_tokens(json.dumps(schema)) is None


def test_default_bounds_make_every_declared_type_bounded():
    schema = {"type": "object", "required": ["s", "n", "x", "tags"],
              "properties": {"s": {"type": "string"}, "n": {"type": "integer", "minimum": 0},
                             "x": {"type": "number"}, "tags": {"type": "array",
                                                               "items": {"type": "string"}},
                             "kind": {"enum": ["string"]}}}
    out = schema_bounds.bounded(schema)
    props = out["properties"]
    assert props["s"]["maxLength"] == schema_bounds.STRING_LENGTH
    assert props["n"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    assert props["x"]["exclusiveMaximum"] == schema_bounds.FLOAT_BOUND
    assert props["tags"]["maxItems"] == schema_bounds.LIST_ITEMS
    assert props["tags"]["items"]["maxLength"] == schema_bounds.STRING_LENGTH
    assert props["kind"] == {"enum": ["string"]}         # values are not schemas
    assert max_document_tokens(json.dumps(schema)) is None
    assert max_document_tokens(json.dumps(out)) is not None


def _call(sql: str):
    return plan_statement(sql).udfs[0][1]


def test_a_typed_call_gets_its_types_longest_answer_as_max_tokens():
    call = _call("SELECT LLM('Who?', t, returns := 'STRUCT(a BOOLEAN, b VARCHAR(2))') FROM x")
    assert call.max_tokens == max_document_tokens(call.schema) == 30
    plain = _call("SELECT LLM('Who?', t, returns := 'VARCHAR') FROM x")   # 64 characters
    assert plain.max_tokens == 1 + 2 + 4 * schema_bounds.STRING_LENGTH
    roomy = _call("SELECT LLM('Who?', t, returns := 'BOOLEAN', max_tokens := 50) FROM x")
    assert roomy.max_tokens == 50
    loose = _call("""SELECT LLM('Who?', t, json_schema := '{"type": "string", "pattern": "^a+$"}') FROM x""")
    assert loose.max_tokens == UNBOUNDED_SCHEMA_TOKENS


def test_a_json_schema_is_stored_with_its_default_bounds_and_its_key_order():
    call = _call("""SELECT LLM('Who?', t, json_schema := '{"type": "object", "properties":
                    {"z": {"type": "string"}, "a": {"type": "integer"}}}') FROM x""")
    schema = json.loads(call.schema)
    assert list(schema["properties"]) == ["z", "a"]      # the document's keys in the order written
    assert schema["properties"]["z"]["maxLength"] == schema_bounds.STRING_LENGTH
    assert call.max_tokens == max_document_tokens(call.schema)


def test_a_max_tokens_too_small_for_the_type_is_an_error_naming_the_call_and_the_bound():
    with pytest.raises(BadCallError) as info:
        plan_statement("SELECT LLM('Year?', t, returns := 'INTEGER', max_tokens := 5) FROM x")
    message = str(info.value)
    assert message.startswith("LLM('Year?'") and "max_tokens := 5" in message
    assert "12 tokens" in message and "Leave max_tokens := out" in message
