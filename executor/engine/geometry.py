"""A model's shape, read from its config alone: what the KV pool and the cost model need.

Why a file of its own: the simulator and EXPLAIN must size the block pool exactly as the engine
does, and derive a default cost model, without loading weights or even importing torch. So the
sizing arithmetic lives here, and ``KVCache`` calls it too (one formula, two users).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def default_dtype(device: str) -> str:
    """The engine's dtype when none is given: bfloat16 on CUDA, float32 elsewhere."""
    return "bfloat16" if str(device).startswith("cuda") else "float32"


@dataclass(frozen=True)
class ModelGeometry:
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    hidden: int
    intermediate: int
    vocab: int
    max_model_len: int

    @property
    def matmul_params(self) -> int:
        """Weights every token multiplies through (projections and MLP of all layers; the
        embedding is a lookup and the LM head runs only on sampled rows)."""
        attn = self.hidden * self.head_dim * (2 * self.heads + 2 * self.kv_heads)
        return self.layers * (attn + 3 * self.hidden * self.intermediate)

    @property
    def head_params(self) -> int:
        return self.hidden * self.vocab

    def kv_bytes_per_token(self, dtype: str) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * DTYPE_BYTES[dtype]


def geometry_of(config) -> ModelGeometry:
    """From a transformers text config, or the plain dict of a config.json."""
    get = config.get if isinstance(config, dict) else (lambda k, d=None: getattr(config, k, d))
    heads = get("num_attention_heads")
    hidden = get("hidden_size")
    return ModelGeometry(
        layers=get("num_hidden_layers"), heads=heads,
        kv_heads=get("num_key_value_heads") or heads,
        head_dim=get("head_dim") or hidden // heads, hidden=hidden,
        intermediate=get("intermediate_size") or 4 * hidden, vocab=get("vocab_size"),
        max_model_len=int(get("max_position_embeddings") or 1 << 30))


def read_geometry(model_path: str) -> ModelGeometry:
    """The geometry of a Hugging Face model folder, from its config.json, or of a GGUF file,
    from its metadata (no weights read either way)."""
    from .gguf_model import gguf_config, is_gguf_file

    if is_gguf_file(model_path):
        return geometry_of(gguf_config(model_path))
    path = os.path.join(model_path, "config.json")
    if not os.path.exists(path):
        from .errors import ModelLoadError

        raise ModelLoadError(f"no config.json in {model_path!r}; pass a Hugging Face model folder "
                             "or a GGUF file")
    with open(path) as f:
        raw = json.load(f)
    return geometry_of(raw.get("text_config") or raw)


def bytes_per_block(geom: ModelGeometry, block_size: int, dtype: str) -> int:
    return block_size * geom.kv_bytes_per_token(dtype)


def num_blocks(geom: ModelGeometry, kv_cache_bytes: int, block_size: int, dtype: str) -> int:
    """How many blocks the engine's pool holds for this budget (K and V, every layer)."""
    return kv_cache_bytes // bytes_per_block(geom, block_size, dtype)
