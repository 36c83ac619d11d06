"""The K/V storage itself: one preallocated tensor pair covering every layer and block.

Slots are addressed flat (``block_id * block_size + offset``), so writing a packed batch is one
``index_copy_`` per layer and reading a sequence is one gather over its slot list.
"""
from __future__ import annotations

import torch

from .errors import CacheTooSmallError
from .geometry import bytes_per_block, geometry_of


class KVCache:
    def __init__(self, config, kv_cache_bytes: int, block_size: int, dtype: torch.dtype,
                 device: torch.device) -> None:
        geom = geometry_of(config)
        self.bytes_per_block = bytes_per_block(geom, block_size, str(dtype).removeprefix("torch."))
        self.num_blocks = kv_cache_bytes // self.bytes_per_block
        if self.num_blocks < 1:
            raise CacheTooSmallError(
                f"kv_cache_bytes={kv_cache_bytes} holds no block: one block of {block_size} tokens "
                f"needs {self.bytes_per_block} bytes for this model; raise kv_cache_bytes")
        self.block_size = block_size
        shape = (geom.layers, self.num_blocks * block_size, geom.kv_heads, geom.head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)

    def copy_slots(self, src_block: int, dst_block: int, n: int) -> None:
        """Copy the first ``n`` token slots of one block into another, in every layer."""
        bs = self.block_size
        s, d = src_block * bs, dst_block * bs
        self.k[:, d:d + n] = self.k[:, s:s + n]
        self.v[:, d:d + n] = self.v[:, s:s + n]

    def _slots(self, block_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor(block_ids, device=self.k.device)
        return (ids[:, None] * self.block_size
                + torch.arange(self.block_size, device=self.k.device)).reshape(-1)

    def swap_out(self, block_ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Copy whole blocks to host memory (pinned on CUDA, so the copy back is async-able);
        on CPU this is a separate buffer, so the pool's blocks can be reused meanwhile."""
        slots = self._slots(block_ids)
        pin = self.k.device.type == "cuda"
        k = self.k[:, slots].to("cpu")
        v = self.v[:, slots].to("cpu")
        return (k.pin_memory(), v.pin_memory()) if pin else (k, v)

    def swap_in(self, data: tuple[torch.Tensor, torch.Tensor], block_ids: list[int],
                first: int = 0) -> None:
        """Write blocks ``first``, ``first + 1``, … of swapped-out ``data`` into ``block_ids``."""
        if not block_ids:
            return
        k, v = data
        bs = self.block_size
        slots = self._slots(block_ids)
        src = slice(first * bs, (first + len(block_ids)) * bs)
        self.k[:, slots] = k[:, src].to(self.k.device, non_blocking=True)
        self.v[:, slots] = v[:, src].to(self.v.device, non_blocking=True)
