"""Jump-forward: the text a grammar forces (a record's keys, quotes, colons, commas, braces) is
appended without a decode step each. A record of four self-ending values (a boolean, an enum,
a bounded string, a date) then takes at most its value tokens plus two decode steps per row
(the opening, which may be a space or the brace, and one for a boundary token), where decoding
every token takes all of them. Counted from the engine's own stats and outputs."""
from __future__ import annotations

import json

import xgrammar as xgr

from executor.engine import Engine, EngineConfig, Request
from executor.sql_types import json_schema
from tests.record_tokens import RECORD, value_tokens
from tests.test_engine_grammar import check_outputs

ROWS = 60


def _run(tiny_model, jump_forward: bool):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=16 << 20, jump_forward=jump_forward))
    schema = json_schema(RECORD)
    reqs = [Request(prompt=f"row {i}: a record", max_tokens=200, json_schema=schema,
                    temperature=(0.0, 1.0)[i % 2], seed=i) for i in range(ROWS)]
    return engine, engine.generate(reqs), json.loads(schema)


def test_a_four_key_record_takes_at_most_its_value_tokens_plus_two_decode_steps(tiny_model):
    engine, outs, schema = _run(tiny_model, jump_forward=True)
    check_outputs(outs, schema)
    vocab = xgr.TokenizerInfo.from_huggingface(engine.tokenizer).decoded_vocab
    steps = [len(o.token_ids) - o.forced_tokens for o in outs]
    for out, n in zip(outs, steps):
        assert out.finish_reason == "stop"
        assert n <= value_tokens([vocab[t] for t in out.token_ids]) + 2, out.text
    s = engine.stats
    assert s.decoded_tokens == sum(steps) and s.forced_tokens == sum(o.forced_tokens for o in outs)
    # forced tokens are computed in chunks, but they are not prompt: nothing was recomputed
    assert s.prefilled_tokens == s.prompt_tokens - s.cached_tokens
    # every key is forced: without jump-forward each of their tokens is a decode step. The
    # oracle for jump-forward on is the grammar (not token identity with sampling every token,
    # which the model might have spelled differently): both ways every document conforms.
    _, plain, _ = _run(tiny_model, jump_forward=False)
    check_outputs(plain, schema)
    assert all(o.forced_tokens == 0 for o in plain)
    keys_tokens = len(engine.tokenizer.encode('{"flag": , "color": , "name": , "day": }'))
    assert sum(len(o.token_ids) for o in plain) >= sum(steps) + ROWS * (keys_tokens - 4)
