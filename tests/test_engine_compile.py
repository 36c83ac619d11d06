"""``compile=True`` fuses norms and MLPs with torch.compile (``compiled_modules.py``): greedy
output still equals transformers' generate, token for token; compiling happens at load; and a
compiler that fails leaves the model running eagerly, with the same output and a warning."""
from __future__ import annotations

import logging
import random

import pytest

from executor.engine import Engine, EngineConfig, InvalidRequestError, Request
from executor.engine.compiled_modules import compile_failure
from tests import hf_oracle


def _prompts(seed: int, n: int) -> list[list[int]]:
    rng = random.Random(seed)
    shared = [rng.randrange(1, 500) for _ in range(19)]
    return [shared + [rng.randrange(1, 500) for _ in range(rng.randint(1, 40))] for _ in range(n)]


def _check(engine: Engine, path: str, prompts: list[list[int]]) -> None:
    outs = engine.generate([Request(prompt_ids=p, max_tokens=6) for p in prompts])
    for p, out in zip(prompts, outs):
        assert out.token_ids == hf_oracle.greedy(path, p, 6)


def test_compiled_engine_matches_hf(model_factory):
    path = model_factory("llama", "tiny")
    engine = Engine(EngineConfig(model=path, kv_cache_bytes=8 << 20, block_size=8, compile=True))
    fused = [m for m in engine.runner.model.modules() if type(m.forward).__name__ == "_CompiledForward"]
    assert len(fused) >= 3                                # norms and MLPs of every layer
    assert compile_failure(engine.runner.model) is None
    assert engine.stats.requests == 0                     # the load's compile run is not counted
    _check(engine, path, _prompts(1, 5))
    assert compile_failure(engine.runner.model) is None


def test_a_failing_compiler_falls_back_to_eager(model_factory, monkeypatch, caplog):
    import torch

    def broken(fn, **_):
        def run(*a, **k):
            raise RuntimeError("no C++ compiler found")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    path = model_factory("qwen2", "tiny")
    with caplog.at_level(logging.WARNING, logger="executor.engine.compiled_modules"):
        engine = Engine(EngineConfig(model=path, kv_cache_bytes=8 << 20, compile=True))
    assert "no C++ compiler found" in compile_failure(engine.runner.model)
    assert "runs eagerly" in caplog.text
    _check(engine, path, _prompts(2, 3))


def test_compile_must_be_a_boolean(tiny_model):
    with pytest.raises(InvalidRequestError, match="compile must be true or false"):
        EngineConfig(model=tiny_model, compile="yes")
