"""The engine's attention function, registered with transformers' ``AttentionInterface``.

transformers runs the model (projections, rotary embeddings, MLPs); at each layer it calls this
function with the packed batch's Q/K/V. We write the new K/V into the paged cache, then attend
over each sequence's own blocks, in padded groups of similar query length (decodes together,
prefill chunks by power-of-two length), so each layer makes a handful of SDPA calls whatever the
batch holds. The causal mask is aligned bottom-right: a chunk's cached tokens precede it.

Cascade: sequences of one iteration that share leading cache blocks (rows under one instruction,
say) attend over that shared prefix *once*, all their queries together, and over the rest of
their context per sequence; the two partial results merge exactly through their log-sum-exps.
The prefix is then read from the cache once per iteration instead of once per sequence.

Everything that depends on the batch but not on the layer is built once per iteration.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .kv_cache import KVCache

ATTENTION_NAME = "infersql_paged"


@dataclass
class AttentionGroup:
    """S sequences padded to ``n`` queries and ``ctx`` keys each. A sequence's keys are its
    context from position ``offset`` on (0, or the end of a cascade's shared prefix)."""

    rows: torch.Tensor        # [S, n] rows of the packed batch holding the queries (padded: 0)
    valid: torch.Tensor       # [S, n] True where a query row is real
    slots: torch.Tensor       # [S, ctx] cache slots of the keys (padded: 0)
    q_pos: torch.Tensor       # [S, n] absolute position of each query
    offset: torch.Tensor      # [S] absolute position of the first key
    mask: torch.Tensor        # [S, 1, n, ctx] causal (bottom-right) and in-bounds
    in_cascade: bool = False  # partial result: also return log-sum-exps for the merge
    _windowed: dict = field(default_factory=dict)
    _folded: dict = field(default_factory=dict)

    def folded(self, window: int | None, g: int, dtype: torch.dtype) -> torch.Tensor:
        """``mask_for(window)`` prepared once per iteration for ``_attend_with_lse``."""
        key = (window, g, dtype)
        if key not in self._folded:
            self._folded[key] = _fold_mask(self.mask_for(window), g, dtype)
        return self._folded[key]

    def mask_for(self, window: int | None) -> torch.Tensor:
        """The mask, narrowed to the last ``window`` keys per query for sliding attention."""
        if window is None:
            return self.mask
        if window not in self._windowed:
            cols = self.offset[:, None, None] + torch.arange(self.slots.shape[1], device=self.slots.device)
            recent = cols > self.q_pos[:, :, None] - window
            self._windowed[window] = self.mask & recent[:, None]
        return self._windowed[window]


@dataclass
class Cascade:
    """A shared prefix (``slots``, all before any member's first query) and the packed rows
    of every query of the sequences sharing it."""

    slots: torch.Tensor       # [P]
    rows: torch.Tensor        # [Q]


@dataclass
class PagedBatch:
    """Per-iteration attention metadata, passed to every layer through the model's kwargs."""

    cache: KVCache
    slot_mapping: torch.Tensor                       # [T] where each new token's K/V goes
    groups: list[AttentionGroup] = field(default_factory=list)
    cascades: list[Cascade] = field(default_factory=list)


def build_group(tables: list[list[int]], starts: list[int], ends: list[int], rows_from: list[int],
                block_size: int, device, offsets: list[int] | None = None,
                in_cascade: bool = False) -> AttentionGroup:
    """Padded metadata for sequences computing tokens [start, end) of themselves, whose
    queries sit in packed rows ``rows_from[i] ..``; ``tables`` are their block ids from
    ``offsets[i]`` (a multiple of the block size) on."""
    s = len(tables)
    width = max(1, max(len(t) for t in tables))
    table = torch.tensor([t + [0] * (width - len(t)) for t in tables], device=device)
    start = torch.tensor(starts, device=device)
    end = torch.tensor(ends, device=device)
    offset = torch.tensor(offsets or [0] * s, device=device)
    n_q = int((end - start).max())
    ctx = int((end - offset).max())
    blocks = torch.arange(block_size, device=device)
    slots = (table[:, :, None] * block_size + blocks).reshape(s, -1)[:, :ctx]
    qi = torch.arange(n_q, device=device)
    valid = qi[None, :] < (end - start)[:, None]
    rows = torch.where(valid, torch.tensor(rows_from, device=device)[:, None] + qi, 0)
    q_pos = start[:, None] + qi
    cols = offset[:, None, None] + torch.arange(ctx, device=device)
    mask = (cols <= q_pos[:, :, None]) & valid[:, :, None]
    return AttentionGroup(rows, valid, slots, q_pos, offset, mask[:, None], in_cascade)


def _fold_mask(mask: torch.Tensor, g: int, dtype: torch.dtype) -> torch.Tensor:
    """A [B, 1, n, L] bool mask for ``_attend_with_lse``: rows repeated for the ``g`` query
    heads folded onto each key/value head; additive (0 / -inf) on CPU, where the fused kernel
    wants the query's dtype."""
    if g > 1:
        mask = mask.repeat(1, 1, g, 1)
    if mask.device.type == "cpu":
        return torch.zeros(mask.shape, dtype=dtype).masked_fill_(~mask, float("-inf"))
    return mask


def _attend_with_lse(q, k, v, folded_mask, scale):
    """Attention that also returns each query's log-sum-exp, for merging partial results.

    q [B, H, n, D], k/v [B, Hkv, L, D], ``folded_mask`` from ``_fold_mask`` or None. Query
    heads are folded onto their key/value head, so grouped-query attention copies no K/V. On
    CPU this is the fused flash kernel behind SDPA (which computes the log-sum-exp anyway);
    elsewhere plain matrix products.
    """
    b, h, n, d = q.shape
    hkv = k.shape[1]
    qf = q.reshape(b, hkv, (h // hkv) * n, d)
    if q.device.type == "cpu":
        out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
            qf, k, v, 0.0, False, attn_mask=folded_mask, scale=scale)
    else:
        scores = torch.matmul(qf, k.transpose(-1, -2)) * (scale if scale is not None else d ** -0.5)
        if folded_mask is not None:
            scores = scores.masked_fill(~folded_mask, float("-inf"))
        lse = torch.logsumexp(scores, dim=-1)
        out = torch.matmul(torch.exp(scores - lse[..., None]), v)
    return out.reshape(b, h, n, d), lse.reshape(b, h, n)


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
    # log-sum-exps in float32 whatever the model's dtype (the CPU kernel returns them so)
    lse = q.new_empty(q.shape[:2], dtype=torch.float32) if pb.cascades else None   # [T, H]
    for g in pb.groups:
        qq = q[g.rows].transpose(1, 2)                               # [S, H, n, D]
        k = kc[g.slots].transpose(1, 2)                              # [S, Hkv, ctx, D]
        v = vc[g.slots].transpose(1, 2)
        mask = g.mask_for(sliding_window)
        if g.in_cascade:
            o, part_lse = _attend_with_lse(qq, k, v, g.folded(sliding_window, qq.shape[1] // k.shape[1],
                                                              qq.dtype), scaling)
            lse[g.rows[g.valid]] = part_lse.transpose(1, 2)[g.valid].float()
        else:
            o = F.scaled_dot_product_attention(qq, k, v, attn_mask=mask, scale=scaling,
                                               enable_gqa=gqa)
        out[g.rows[g.valid]] = o.transpose(1, 2)[g.valid]
    for c in pb.cascades:
        qq = q[c.rows].transpose(0, 1)[None]                         # [1, H, Q, D]
        k = kc[c.slots].transpose(0, 1)[None]                        # [1, Hkv, P, D]
        v = vc[c.slots].transpose(0, 1)[None]
        o, pre_lse = _attend_with_lse(qq, k, v, None, scaling)
        o, pre_lse = o[0].transpose(0, 1), pre_lse[0].transpose(0, 1).float()   # [Q, H, D], [Q, H]
        own_lse = lse[c.rows]
        top = torch.maximum(pre_lse, own_lse)
        w_pre, w_own = torch.exp(pre_lse - top), torch.exp(own_lse - top)
        merged = (o * w_pre[..., None] + out[c.rows] * w_own[..., None]) / (w_pre + w_own)[..., None]
        out[c.rows] = merged.to(out.dtype)
    return out.unsqueeze(0), None


def register() -> str:
    """Make ``attn_implementation=ATTENTION_NAME`` resolve to ``paged_attention``.

    The name is deliberately absent from ``AttentionMaskInterface``: transformers then builds
    no attention mask at all, which is right because the batch is packed and masks are ours.
    """
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, paged_attention)
    return ATTENTION_NAME
