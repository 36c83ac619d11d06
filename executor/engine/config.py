"""Engine settings, validated once at construction so bad values fail before any model loads."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidRequestError
from .eviction import resolve_eviction
from .preemption import resolve_preemption


@dataclass
class EngineConfig:
    """Everything that shapes one engine instance.

    ``kv_cache_bytes`` sizes the single preallocated block pool (K and V, all layers).
    ``max_batch_tokens`` is the per-iteration token budget shared by decodes and prefill chunks.
    ``eviction`` and ``preemption`` name policies from the ``eviction`` package and
    ``preemption.py``; an unknown name fails here, and ``plan``, the old name of ``belady``,
    is stored as ``belady``. The eviction default is ``belady``: the engine is told the request
    order (``generate(future=...)``) and at half a workload's prefix KV it recomputes several
    times less than ``lru`` (bench/BENCHMARKS.md, policy_bench); told nothing, it still keeps
    the blocks that waiting requests will read.
    ``dtype`` defaults to float32 on CPU and bfloat16 on CUDA.
    ``swap_bytes`` is host memory for sequences the ``cost`` preemption policy swaps out
    (None: as much as ``kv_cache_bytes``; 0: never swap).
    ``decode_batch`` caps how many sequences run at once: ``"auto"`` at the cost model's
    throughput knee (so rows finish steadily at almost no cost), ``"max"`` for no cap, or a number.
    ``jump_forward``: text a request's grammar forces (keys, quotes, braces) is appended without
    a decode step each; off, every token is sampled (what ``generate`` with the same grammar
    processor does, token for token).
    ``retention``: ``"forever"`` keeps finished requests' blocks until evicted; ``"t_star"``
    demotes blocks idle longer than the five-minute-rule break-even time T* at each
    ``generate`` call, so they are the first to go.
    ``compile``: fuse each layer's norms and MLP with ``torch.compile`` (``compiled_modules.py``):
    faster per token, most in bfloat16, after seconds of compiling when the engine loads (cached
    on disk for later loads); without a working compiler the model runs eagerly, with a warning.
    """

    model: str
    device: str = "cpu"
    dtype: str | None = None
    kv_cache_bytes: int = 256 << 20
    block_size: int = 16
    max_batch_tokens: int = 2048
    max_num_seqs: int = 256
    eviction: str = "belady"
    preemption: str = "newest"
    prefix_caching: bool = True
    swap_bytes: int | None = None
    decode_batch: int | str = "auto"
    retention: str = "forever"
    jump_forward: bool = True
    compile: bool = False

    def __post_init__(self) -> None:
        for name in ("kv_cache_bytes", "block_size", "max_batch_tokens", "max_num_seqs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidRequestError(f"EngineConfig.{name} must be a positive integer, got {value!r}")
        if self.swap_bytes is not None and (not isinstance(self.swap_bytes, int)
                                            or self.swap_bytes < 0):
            raise InvalidRequestError(
                f"EngineConfig.swap_bytes must be an integer >= 0 or None, got {self.swap_bytes!r}")
        if self.decode_batch not in ("auto", "max") and (
                not isinstance(self.decode_batch, int) or self.decode_batch < 1):
            raise InvalidRequestError("EngineConfig.decode_batch must be 'auto', 'max' or a "
                                      f"positive integer, got {self.decode_batch!r}")
        for name in ("prefix_caching", "jump_forward", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidRequestError(
                    f"EngineConfig.{name} must be true or false, got {getattr(self, name)!r}")
        if self.retention not in ("forever", "t_star"):
            raise InvalidRequestError(
                f"EngineConfig.retention must be 'forever' or 't_star', got {self.retention!r}")
        if self.dtype not in (None, "float32", "bfloat16", "float16"):
            raise InvalidRequestError(
                f"EngineConfig.dtype must be float32, bfloat16 or float16, got {self.dtype!r}")
        self.eviction = resolve_eviction(self.eviction)
        self.preemption = resolve_preemption(self.preemption)
