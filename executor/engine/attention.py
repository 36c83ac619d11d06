"""The engine's attention function, registered with transformers' ``AttentionInterface``.

transformers runs the model (projections, rotary embeddings, MLPs); at each layer it calls this
function with the packed batch's Q/K/V. We write the new K/V into the paged cache, then attend
over each sequence's own blocks. Sequences are attended in two padded groups, single-token
queries (decodes) and multi-token chunks (prefill), so each layer makes at most two SDPA calls
whatever the batch holds; within a group the causal mask is aligned bottom-right, because a
chunk's cached tokens precede it. Everything that depends on the batch but not on the layer is
built once per iteration (``build_group``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .kv_cache import KVCache

ATTENTION_NAME = "infersql_paged"


@dataclass
class AttentionGroup:
    """S sequences padded to ``n`` queries and ``ctx`` keys each."""

    rows: torch.Tensor        # [S, n] rows of the packed batch holding the queries (padded: 0)
    valid: torch.Tensor       # [S, n] True where a query row is real
    slots: torch.Tensor       # [S, ctx] cache slots of each sequence's context (padded: 0)
    q_pos: torch.Tensor       # [S, n] absolute position of each query
    k_len: torch.Tensor       # [S] real context length
    mask: torch.Tensor        # [S, 1, n, ctx] causal (bottom-right) and in-bounds
    _windowed: dict = field(default_factory=dict)

    def mask_for(self, window: int | None) -> torch.Tensor:
        """The mask, narrowed to the last ``window`` keys per query for sliding attention."""
        if window is None:
            return self.mask
        if window not in self._windowed:
            cols = torch.arange(self.slots.shape[1], device=self.slots.device)
            recent = cols[None, None, :] > self.q_pos[:, :, None] - window
            self._windowed[window] = self.mask & recent[:, None]
        return self._windowed[window]


@dataclass
class PagedBatch:
    """Per-iteration attention metadata, passed to every layer through the model's kwargs."""

    cache: KVCache
    slot_mapping: torch.Tensor                       # [T] where each new token's K/V goes
    groups: list[AttentionGroup] = field(default_factory=list)


def build_group(tables: list[list[int]], starts: list[int], ends: list[int], rows_from: list[int],
                block_size: int, device) -> AttentionGroup:
    """Padded metadata for sequences computing tokens [start, end) of themselves, whose
    queries sit in packed rows ``rows_from[i] ..``; ``tables`` are their block ids."""
    s = len(tables)
    width = max(len(t) for t in tables)
    table = torch.tensor([t + [0] * (width - len(t)) for t in tables], device=device)
    start = torch.tensor(starts, device=device)
    end = torch.tensor(ends, device=device)
    n_q = int((end - start).max())
    ctx = int(end.max())
    offs = torch.arange(block_size, device=device)
    slots = (table[:, :, None] * block_size + offs).reshape(s, -1)[:, :ctx]
    qi = torch.arange(n_q, device=device)
    valid = qi[None, :] < (end - start)[:, None]
    rows = torch.where(valid, torch.tensor(rows_from, device=device)[:, None] + qi, 0)
    q_pos = start[:, None] + qi
    cols = torch.arange(ctx, device=device)
    mask = (cols[None, None, :] <= q_pos[:, :, None]) & valid[:, :, None]
    return AttentionGroup(rows, valid, slots, q_pos, end, mask[:, None])


def paged_attention(module, query, key, value, attention_mask=None, scaling=None, dropout=0.0,
                    sliding_window=None, paged_batch: PagedBatch | None = None, **kwargs):
    """query [1, H, T, D], key/value [1, Hkv, T, D] -> ([1, T, H, D], None)."""
    pb = paged_batch
    layer = module.layer_idx
    kc, vc = pb.cache.k[layer], pb.cache.v[layer]
    kc.index_copy_(0, pb.slot_mapping, key[0].transpose(0, 1))
    vc.index_copy_(0, pb.slot_mapping, value[0].transpose(0, 1))
    q = query[0].transpose(0, 1)                                     # [T, H, D]
    gqa = query.shape[1] != key.shape[1]
    out = torch.empty_like(q)
    for g in pb.groups:
        qq = q[g.rows].transpose(1, 2)                               # [S, H, n, D]
        k = kc[g.slots].transpose(1, 2)                              # [S, Hkv, ctx, D]
        v = vc[g.slots].transpose(1, 2)
        o = F.scaled_dot_product_attention(qq, k, v, attn_mask=g.mask_for(sliding_window),
                                           scale=scaling, enable_gqa=gqa)
        out[g.rows[g.valid]] = o.transpose(1, 2)[g.valid]
    return out.unsqueeze(0), None


def register() -> str:
    """Make ``attn_implementation=ATTENTION_NAME`` resolve to ``paged_attention``.

    The name is deliberately absent from ``AttentionMaskInterface``: transformers then builds
    no attention mask at all, which is right because the batch is packed and masks are ours.
    """
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, paged_attention)
    return ATTENTION_NAME
