"""Bad input gets a clear exception that names the problem, and the engine stays usable."""
from __future__ import annotations

import json

import pytest

from executor.engine import (CacheTooSmallError, Engine, EngineConfig, InvalidRequestError,
                             ModelLoadError, Request)


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 20))


@pytest.mark.parametrize("request_, message", [
    (Request(prompt=""), "empty"),
    (Request(prompt_ids=[]), "empty"),
    (Request(), "exactly one"),
    (Request(prompt="x", prompt_ids=[1]), "exactly one"),
    (Request(prompt="x", max_tokens=0), "max_tokens"),
    (Request(prompt="x", temperature=-1), "temperature"),
    (Request(prompt="x", top_p=0), "top_p"),
    (Request(prompt_ids=[10**6]), "token id"),
    (Request(prompt="x", choices=[]), "choices"),
    (Request(prompt="x", choices=["a", "a"]), "distinct"),
    (Request(prompt_ids=[5] * 5000), "context"),
])
def test_bad_request_names_problem_and_engine_survives(engine, request_, message):
    with pytest.raises(InvalidRequestError, match=message) as info:
        engine.generate([Request(prompt="fine", max_tokens=2), request_])
    assert "request 1" in str(info.value)
    assert len(engine.generate([Request(prompt="still works", max_tokens=3)])[0].token_ids) == 3


def test_missing_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        Engine(EngineConfig(model=str(tmp_path / "nope")))


def test_folder_that_is_not_a_causal_lm(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 10}))
    with pytest.raises(ModelLoadError, match="causal language model"):
        Engine(EngineConfig(model=str(tmp_path)))


def test_kv_budget_too_small(tiny_model):
    with pytest.raises(CacheTooSmallError, match="kv_cache_bytes"):
        Engine(EngineConfig(model=tiny_model, kv_cache_bytes=100))
    small = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 20, block_size=4))
    per_block = small.runner.kv.bytes_per_block
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=3 * per_block, block_size=4))
    with pytest.raises(CacheTooSmallError, match="raise kv_cache_bytes"):
        engine.generate([Request(prompt_ids=list(range(1, 20)), max_tokens=4)])
    assert engine.generate([Request(prompt_ids=[1, 2, 3], max_tokens=4)])[0].token_ids


@pytest.mark.parametrize("field, value", [("block_size", 0), ("max_batch_tokens", -1),
                                          ("dtype", "int8"), ("eviction", "random?"),
                                          ("preemption", "oldest?")])
def test_bad_config(tiny_model, field, value):
    with pytest.raises(InvalidRequestError, match=field if field != "preemption" and field != "eviction" else "policy"):
        Engine(EngineConfig(model=tiny_model, **{field: value}))


def test_interrupt_mid_generation_leaves_engine_usable(engine):
    def boom(done, total):
        raise KeyboardInterrupt

    reqs = [Request(prompt="a b c", max_tokens=n) for n in (1, 8, 8)]
    with pytest.raises(KeyboardInterrupt):
        engine.generate(reqs, progress=boom)
    assert engine.scheduler.running == [] and engine.scheduler.waiting == []
    assert engine.blocks.used_blocks == 0 and engine.postprocessor.requests == {}
    assert len(engine.generate(reqs)[2].token_ids) <= 8
