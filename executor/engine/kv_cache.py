"""The K/V storage itself: one preallocated tensor pair covering every layer and block.

Slots are addressed flat (``block_id * block_size + offset``), so writing a packed batch is one
``index_copy_`` per layer and reading a sequence is one gather over its slot list.
"""
from __future__ import annotations

import torch

from .errors import CacheTooSmallError


def kv_geometry(config) -> tuple[int, int, int]:
    """(layers, kv heads, head dim) of a transformers config."""
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return config.num_hidden_layers, kv_heads, head_dim


class KVCache:
    def __init__(self, config, kv_cache_bytes: int, block_size: int, dtype: torch.dtype,
                 device: torch.device) -> None:
        layers, kv_heads, head_dim = kv_geometry(config)
        elem = torch.empty((), dtype=dtype).element_size()
        bytes_per_block = 2 * layers * block_size * kv_heads * head_dim * elem
        self.num_blocks = kv_cache_bytes // bytes_per_block
        if self.num_blocks < 1:
            raise CacheTooSmallError(
                f"kv_cache_bytes={kv_cache_bytes} holds no block: one block of {block_size} tokens "
                f"needs {bytes_per_block} bytes for this model; raise kv_cache_bytes")
        self.block_size = block_size
        self.bytes_per_block = bytes_per_block
        shape = (layers, self.num_blocks * block_size, kv_heads, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)

    def copy_slots(self, src_block: int, dst_block: int, n: int) -> None:
        """Copy the first ``n`` token slots of one block into another, in every layer."""
        bs = self.block_size
        s, d = src_block * bs, dst_block * bs
        self.k[:, d:d + n] = self.k[:, s:s + n]
        self.v[:, d:d + n] = self.v[:, s:s + n]
