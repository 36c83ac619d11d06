"""The engine's attention function, registered with transformers' ``AttentionInterface``.

transformers runs the model (projections, rotary embeddings, MLPs); at each layer it calls this
function with the packed batch's Q/K/V. We write the new K/V into the paged cache, then attend
over each sequence's own blocks. Prefill chunks attend per sequence with a causal mask aligned
bottom-right (cached tokens precede the chunk); all single-token queries (decodes) attend in one
padded batch. Everything that depends only on the batch, not the layer, is built once per
iteration in ``PagedBatch``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .kv_cache import KVCache

ATTENTION_NAME = "infersql_paged"


@dataclass
class PrefillChunk:
    q_start: int                   # rows of the packed batch holding this chunk's queries
    q_end: int
    context: int                   # tokens attended: cached ones plus this chunk
    slots: torch.Tensor | None     # cache slots of the whole context; None when nothing cached
    mask: torch.Tensor | None      # bottom-right causal mask; None when context == chunk length


@dataclass
class PagedBatch:
    """Per-iteration attention metadata, passed to every layer through the model's kwargs."""

    cache: KVCache
    slot_mapping: torch.Tensor                     # [T] where each new token's K/V goes
    prefills: list[PrefillChunk] = field(default_factory=list)
    decode_rows: torch.Tensor | None = None        # [B] rows of single-token queries
    decode_slots: torch.Tensor | None = None       # [B, L] context slots, padded
    decode_mask: torch.Tensor | None = None        # [B, 1, 1, L] True where a slot is real
    decode_lengths: torch.Tensor | None = None     # [B] real context lengths


def bottom_right_causal_mask(q_len: int, kv_len: int, device) -> torch.Tensor:
    """Query i (the i-th of the last ``q_len`` tokens) sees keys 0 .. kv_len - q_len + i."""
    return torch.ones(q_len, kv_len, dtype=torch.bool, device=device).tril(kv_len - q_len)


def _window(mask: torch.Tensor, q_len: int, kv_len: int, window: int) -> torch.Tensor:
    """Restrict a causal mask to the last ``window`` keys of each query (sliding attention)."""
    return mask & torch.ones_like(mask).triu(kv_len - q_len - window + 1)


def paged_attention(module, query, key, value, attention_mask=None, scaling=None, dropout=0.0,
                    sliding_window=None, paged_batch: PagedBatch | None = None, **kwargs):
    """query [1, H, T, D], key/value [1, Hkv, T, D] -> ([1, T, H, D], None)."""
    pb = paged_batch
    layer = module.layer_idx
    kc, vc = pb.cache.k[layer], pb.cache.v[layer]
    k_new, v_new = key[0].transpose(0, 1), value[0].transpose(0, 1)   # [T, Hkv, D]
    kc.index_copy_(0, pb.slot_mapping, k_new)
    vc.index_copy_(0, pb.slot_mapping, v_new)
    q = query[0]                                                      # [H, T, D]
    heads, total, dim = q.shape
    gqa = heads != k_new.shape[1]
    out = q.new_empty(total, heads, dim)
    for p in pb.prefills:
        qq = q[:, p.q_start:p.q_end].unsqueeze(0)
        n = p.q_end - p.q_start
        if p.slots is None:
            k, v = k_new[p.q_start:p.q_end], v_new[p.q_start:p.q_end]
        else:
            k, v = kc[p.slots], vc[p.slots]
        mask = p.mask
        if sliding_window is not None and p.context > sliding_window:
            base = mask if mask is not None else bottom_right_causal_mask(n, p.context, q.device)
            mask = _window(base, n, p.context, sliding_window)
        o = F.scaled_dot_product_attention(
            qq, k.transpose(0, 1).unsqueeze(0), v.transpose(0, 1).unsqueeze(0),
            attn_mask=mask, is_causal=mask is None and n > 1, scale=scaling, enable_gqa=gqa)
        out[p.q_start:p.q_end] = o[0].transpose(0, 1)
    if pb.decode_rows is not None:
        qq = q[:, pb.decode_rows].transpose(0, 1).unsqueeze(2)          # [B, H, 1, D]
        k = kc[pb.decode_slots].transpose(1, 2)                          # [B, Hkv, L, D]
        v = vc[pb.decode_slots].transpose(1, 2)
        mask = pb.decode_mask
        if sliding_window is not None:
            first = (pb.decode_lengths - sliding_window).clamp(min=0)
            cols = torch.arange(mask.shape[-1], device=mask.device)
            mask = mask & (cols >= first[:, None])[:, None, None, :]
        o = F.scaled_dot_product_attention(qq, k, v, attn_mask=mask, scale=scaling,
                                           enable_gqa=gqa)
        out[pb.decode_rows] = o[:, :, 0]
    return out.unsqueeze(0), None


def register() -> str:
    """Make ``attn_implementation=ATTENTION_NAME`` resolve to ``paged_attention``.

    The name is deliberately absent from ``AttentionMaskInterface``: transformers then builds
    no attention mask at all, which is right because the batch is packed and masks are ours.
    """
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, paged_attention)
    return ATTENTION_NAME
