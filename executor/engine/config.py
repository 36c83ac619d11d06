"""Engine settings, validated once at construction so bad values fail before any model loads."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidRequestError


@dataclass
class EngineConfig:
    """Everything that shapes one engine instance.

    ``kv_cache_bytes`` sizes the single preallocated block pool (K and V, all layers).
    ``max_batch_tokens`` is the per-iteration token budget shared by decodes and prefill chunks.
    ``eviction`` and ``preemption`` name policies from ``eviction.py`` and ``preemption.py``.
    ``dtype`` defaults to float32 on CPU and bfloat16 on CUDA.
    """

    model: str
    device: str = "cpu"
    dtype: str | None = None
    kv_cache_bytes: int = 256 << 20
    block_size: int = 16
    max_batch_tokens: int = 2048
    max_num_seqs: int = 256
    eviction: str = "lru"
    preemption: str = "newest"
    prefix_caching: bool = True
    attention_backend: str = "auto"

    def __post_init__(self) -> None:
        for name in ("kv_cache_bytes", "block_size", "max_batch_tokens", "max_num_seqs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidRequestError(f"EngineConfig.{name} must be a positive integer, got {value!r}")
        if self.dtype not in (None, "float32", "bfloat16", "float16"):
            raise InvalidRequestError(
                f"EngineConfig.dtype must be float32, bfloat16 or float16, got {self.dtype!r}")
