"""Shared fixtures: tiny random Hugging Face model folders, built once per test session."""
from __future__ import annotations

import logging

import pytest

from infersql.demo_model import ARCHITECTURES, build_random_model

logging.getLogger("transformers").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def model_factory(tmp_path_factory):
    """``model_factory(arch="qwen2", size="tiny", seed=0)`` -> path of a saved random model."""
    built = {}

    def make(arch: str = "qwen2", size: str = "tiny", seed: int = 0):
        key = (arch, size, seed)
        if key not in built:
            folder = tmp_path_factory.mktemp(f"{arch}-{size}-{seed}")
            built[key] = str(build_random_model(folder, arch, size=size, seed=seed))
        return built[key]

    return make


@pytest.fixture(scope="session")
def tiny_model(model_factory):
    """The default test model: a tiny random Qwen2."""
    return model_factory("qwen2")


@pytest.fixture(params=ARCHITECTURES)
def arch_model(request, model_factory):
    """One tiny random model per supported architecture (Qwen2, Llama, Mistral)."""
    return model_factory(request.param)


@pytest.fixture(scope="session")
def block_bytes(tiny_model):
    """Bytes of one KV block of the tiny model at block size 4 in float32: the policy and
    counter tests size their caches in blocks."""
    from executor.engine.geometry import bytes_per_block, read_geometry

    return bytes_per_block(read_geometry(tiny_model), 4, "float32")
