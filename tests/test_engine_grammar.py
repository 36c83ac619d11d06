"""Grammar-constrained decoding (``Request(json_schema=...)``): with random weights, whatever the
model wants, every finished output is a JSON document that conforms to its schema; with
jump-forward off, greedy output equals transformers' generate with xgrammar's own HF logits
processor; with it on (the default), forced text costs no decode step; preemption (by
recompute or swap) keeps each matcher's state, jump-forward or not; bad requests are refused
up front."""
from __future__ import annotations

import json
import re

import pytest

from executor.engine import Engine, EngineConfig, InvalidRequestError, Request
from executor.engine.grammar.xgrammar_backend import json_schema_ebnf
from tests import hf_oracle

NESTED = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 6},
        "inner": {"type": "object", "properties": {"x": {"type": "integer"}, "ok": {"type": "boolean"}},
                  "required": ["x", "ok"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 3},
        "kind": {"enum": ["a", "b", "c"]},
    },
    "required": ["name", "inner", "tags", "kind"],
}
SCHEMAS = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "string": {"type": "string", "maxLength": 8},
    "enum": {"enum": ["red", "green", "blue", 3, None]},
    "array": {"type": "array", "items": {"type": "integer"}},
    "nested": NESTED,
}
SMALL_OBJECT = {   # bounded: about 25 tokens, so a small KV pool holds a few rows at once
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "kind": {"enum": ["a", "b", "c"]},
                   "name": {"type": "string", "maxLength": 6}},
    "required": ["ok", "kind", "name"],
}
MAX_TOKENS = 256


def conforms(value, schema: dict) -> bool:
    """A small JSON-Schema check for the keywords these tests use (jsonschema is not a
    dependency): type, enum, anyOf, maxLength, pattern, items, maxItems, properties, required."""
    if "enum" in schema:
        return any(value == e and type(value) is type(e) for e in schema["enum"])
    if "anyOf" in schema:
        return any(conforms(value, s) for s in schema["anyOf"])
    kind = schema["type"]
    if kind == "null":
        return value is None
    if kind == "integer":
        return type(value) is int
    if kind == "number":
        return type(value) in (int, float)
    if kind == "boolean":
        return type(value) is bool
    if kind == "string":
        return (type(value) is str and len(value) <= schema.get("maxLength", len(value))
                and re.search(schema.get("pattern", ""), value) is not None)
    if kind == "array":
        return (type(value) is list and len(value) <= schema.get("maxItems", len(value))
                and all(conforms(v, schema["items"]) for v in value))
    if kind == "object":
        props = schema["properties"]
        return (type(value) is dict and set(schema["required"]) <= set(value)
                and set(value) <= set(props) and all(conforms(v, props[k]) for k, v in value.items()))
    raise AssertionError(f"the test validator does not know {kind!r}")


def check_outputs(outs, schema: dict, max_tokens: int = MAX_TOKENS) -> None:
    """Every "stop" output parses and conforms; "length" ones spent the whole budget (a random
    model may write digits for ever) and are rare."""
    lengths = 0
    for out in outs:
        if out.finish_reason == "length":
            assert len(out.token_ids) == max_tokens
            lengths += 1
            continue
        assert out.finish_reason == "stop"
        assert conforms(json.loads(out.text), schema), out.text
        assert out.text == out.text.strip() and "\n" not in out.text, f"not compact: {out.text!r}"
    assert lengths <= len(outs) // 50, f"{lengths} of {len(outs)} ran out of tokens"


def _requests(schema: dict, n: int, max_tokens: int = MAX_TOKENS, **kw) -> list[Request]:
    text = json.dumps(schema)
    return [Request(prompt=f"row {i}: answer as JSON", max_tokens=max_tokens, json_schema=text,
                    temperature=(0.0, 0.7, 1.0, 1.5)[i % 4], seed=i, **kw) for i in range(n)]


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_500_requests_per_schema_conform(model_factory, arch):
    engine = Engine(EngineConfig(model=model_factory(arch), kv_cache_bytes=64 << 20))
    for name, schema in SCHEMAS.items():
        check_outputs(engine.generate(_requests(schema, 500)), schema)


def test_mixed_schemas_in_one_batch(tiny_model):
    """Rows with different grammars, and rows with none, share every step's batch."""
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=16 << 20))
    reqs, kinds = [], []
    for i in range(140):
        name = list(SCHEMAS)[i % 8 - 1] if i % 8 else None
        kinds.append(name)
        reqs.append(Request(prompt=f"mixed {i}", max_tokens=MAX_TOKENS, seed=i, temperature=1.0,
                            json_schema=json.dumps(SCHEMAS[name]) if name else None))
    outs = engine.generate(reqs)
    for name in SCHEMAS:
        check_outputs([o for o, k in zip(outs, kinds) if k == name], SCHEMAS[name])
    plain = [o for o, k in zip(outs, kinds) if k is None]
    assert plain and any(not _is_json(o.text) for o in plain)   # unconstrained rows stay free


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def test_done_grammar_finishes_without_an_eos_step(tiny_model):
    """A boolean is complete after "true"/"false" and allows only EOS next: the sequence stops
    there, spending no decode step on EOS."""
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=8 << 20))
    outs = engine.generate(_requests(SCHEMAS["boolean"], 40))
    eos = engine.tokenizer.eos_token_id
    assert {o.text for o in outs} <= {"true", "false"}
    assert all(o.finish_reason == "stop" and eos not in o.token_ids for o in outs)
    # "t" forces "rue": sampled and forced tokens together are the output
    assert engine.stats.forced_tokens == sum(o.forced_tokens for o in outs) > 0
    assert engine.stats.decoded_tokens + engine.stats.forced_tokens == sum(len(o.token_ids) for o in outs)


def test_budget_runs_out_before_the_grammar_completes(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=8 << 20))
    outs = engine.generate([Request(prompt="x", max_tokens=3, json_schema=json.dumps(NESTED))])
    assert outs[0].finish_reason == "length" and len(outs[0].token_ids) == 3
    assert not _is_json(outs[0].text)


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_greedy_matches_hf_generate_with_xgrammar_processor(model_factory, arch):
    """Jump-forward off: every token sampled, as generate does. (On, the engine spells forced
    text with the tokenizer's own encoding, which the model might not have chosen.)"""
    import xgrammar as xgr
    from xgrammar.contrib.hf import LogitsProcessor

    path = model_factory(arch)
    engine = Engine(EngineConfig(model=path, kv_cache_bytes=8 << 20, jump_forward=False))
    tokenizer, model = hf_oracle.load(path)
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.config.vocab_size)
    compiler = xgr.GrammarCompiler(info)
    eos = engine.tokenizer.eos_token_id
    for name in ("nested", "array", "string", "integer"):
        text = json.dumps(SCHEMAS[name])
        # The engine's grammar: xgrammar's compact one, strings without raw control characters.
        grammar = compiler.compile_grammar(json_schema_ebnf(text))
        prompts = [engine.tokenizer(f"prompt {i} for {name}").input_ids for i in range(3)]
        outs = engine.generate([Request(prompt_ids=p, max_tokens=48, json_schema=text)
                                for p in prompts])
        for p, out in zip(prompts, outs):
            want = hf_oracle.greedy(path, p, 48, [LogitsProcessor(grammar)])
            # The engine stops as soon as only EOS is allowed; generate spends a step on it.
            if out.finish_reason == "stop" and want[-1:] == [eos] and out.token_ids[-1:] != [eos]:
                want = want[:-1]
            assert out.token_ids == want, (name, out.text, tokenizer.decode(want))


@pytest.mark.parametrize("preemption, swap", [("newest", 0), ("cost", None)])
def test_preemption_keeps_each_matcher(tiny_model, preemption, swap, jump_forward=True):
    """A KV pool of two dozen small blocks for 60 schema requests: sequences are preempted and
    recomputed (or swapped) mid-document, forced tokens not yet computed included, and every
    document still parses and conforms."""
    probe = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 20, block_size=4))
    per_block = probe.runner.kv.bytes_per_block
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=24 * per_block, block_size=4,
                                 max_batch_tokens=64, preemption=preemption,
                                 swap_bytes=swap if swap is not None else 64 * per_block,
                                 jump_forward=jump_forward))
    schema = SMALL_OBJECT
    outs = engine.generate(_requests(schema, 60, max_tokens=48))
    assert engine.stats.preemptions > 0
    if swap is None:
        assert engine.stats.swaps > 0
    check_outputs(outs, schema, max_tokens=48)
    assert (engine.stats.forced_tokens > 0) == jump_forward
    # Greedy rows are the same as without any preemption.
    roomy = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=16 << 20, jump_forward=jump_forward))
    alone = roomy.generate(_requests(schema, 60, max_tokens=48))
    assert [o.token_ids for o in outs[::4]] == [o.token_ids for o in alone[::4]]


@pytest.mark.parametrize("schema, message", [
    ('{"type": "integer", "minimum": "x"}', "must be a number"),
    ('{"type": "foo"}', 'Unsupported type "foo"'),
    ("not json", "Failed to parse JSON"),
])
def test_a_bad_schema_is_an_invalid_request_naming_the_problem(tiny_model, schema, message):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 20))
    with pytest.raises(InvalidRequestError, match="json_schema") as info:
        engine.generate([Request(prompt="a", json_schema='{"type": "boolean"}'),
                         Request(prompt="b", json_schema=schema)])
    assert message in str(info.value) and "request 1" in str(info.value)
    assert ".cc:" not in str(info.value)
    assert engine.generate([Request(prompt="a", json_schema='{"type": "boolean"}')])[0].text


@pytest.mark.parametrize("extra, message", [
    (dict(choices=["yes", "no"]), "not both"),
    (dict(stop=["}"]), "stop strings"),
    (dict(json_schema={"type": "integer"}), "must be a str"),
])
def test_schema_with_choices_or_stop_is_invalid(tiny_model, extra, message):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 20))
    req = Request(prompt="a", **{"json_schema": '{"type": "integer"}', **extra})
    with pytest.raises(InvalidRequestError, match=message):
        engine.generate([req])


def test_a_schema_compiles_once(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20))
    engine.generate(_requests(SCHEMAS["enum"], 5))
    backend = engine.grammars.backend
    first = backend._compiled[json.dumps(SCHEMAS["enum"])]
    engine.generate(_requests(SCHEMAS["enum"], 5))
    assert backend._compiled[json.dumps(SCHEMAS["enum"])] is first and len(backend._compiled) == 1
