"""Loads a Hugging Face causal LM and runs one packed, unpadded forward pass per iteration.

transformers provides the model code, weights and tokenizer; the only engine code inside the
model is the registered attention function. Sequences are packed into a single row with
restarting ``position_ids``; ``logits_to_keep`` projects only the positions someone samples
from or scores.
"""
from __future__ import annotations

import contextlib
import logging
import os

import torch

from . import attention
from .compiled_modules import compile_modules
from .config import EngineConfig
from .prefix_keys import common_prefix
from .errors import ModelLoadError
from .geometry import default_dtype, geometry_of
from .gguf_model import dequantized, gguf_loading, load_tokenizer, pretrained_source
from .kv_cache import KVCache
from .sequence import Chunk

log = logging.getLogger(__name__)

MIN_CASCADE_BLOCKS = 2      # a shared prefix shorter than this is not worth a cascade
# A cascade saves reading the shared prefix's K/V once per sequence, not arithmetic: each query
# still attends to every prefix key. That pays for decodes, which are memory-bound, and not for
# prefill chunks, whose attention is compute-bound and then pays the merge on top (SmolLM2 on
# the movies filter: 7.2 s with prefill chunks in cascades, 6.6 s without).
MAX_CASCADE_QUERIES = 8     # chunks computing more tokens than this attend on their own

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _load(config: EngineConfig, device: torch.device, dtype: torch.dtype):
    from transformers import AutoConfig, AutoModelForCausalLM

    path = config.model
    folder, source = pretrained_source(path)        # a GGUF file: its folder and gguf_file=
    if not source and not os.path.isdir(path):
        raise ModelLoadError(f"model folder {path!r} does not exist; pass the path of a local "
                             "Hugging Face model folder (config.json, weights, tokenizer) or of "
                             "a GGUF file")
    log.info("Loading model %s …", path)
    try:
        with _quiet_progress_bars(), gguf_loading(bool(source)):
            hf_config = AutoConfig.from_pretrained(folder, **source)
            model = AutoModelForCausalLM.from_pretrained(
                folder, config=hf_config, dtype=dtype, attn_implementation=attention.register(),
                **dequantized(source))
    except Exception as exc:  # transformers raises many types; surface one clear error
        raise ModelLoadError(f"cannot load {path!r} as a causal language model: {exc}") from exc
    if not source and not _has_tokenizer(path):   # checked once the folder is known to hold a model
        raise ModelLoadError(f"model folder {path!r} has no tokenizer files ({', '.join(_TOKENIZER_FILES)}); "
                             "save the model's tokenizer there with tokenizer.save_pretrained(folder)")
    try:
        tokenizer = load_tokenizer(path)
    except Exception as exc:
        raise ModelLoadError(f"cannot load the tokenizer of {path!r}: {exc}") from exc
    return hf_config, tokenizer, model.to(device).eval()


_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "*.tiktoken")


def _has_tokenizer(path: str) -> bool:
    """Without these, transformers may still build a tokenizer that encodes every text to
    nothing, and each prompt would then fail as empty: say what is missing at load time."""
    import glob

    return any(glob.glob(os.path.join(glob.escape(path), name)) for name in _TOKENIZER_FILES)


@contextlib.contextmanager
def _quiet_progress_bars():
    """transformers draws "Loading weights" bars on stderr, into the CLI's output and the
    DB-API caller's; turn them off while loading, and back on if they were on."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


class ModelRunner:
    def __init__(self, config: EngineConfig) -> None:
        self.device = torch.device(config.device)
        self.dtype = _DTYPES[config.dtype or default_dtype(config.device)]
        self.hf_config, self.tokenizer, self.model = _load(config, self.device, self.dtype)
        if config.compile:
            compile_modules(self.model)
        text = self.hf_config.get_text_config()
        self.kv = KVCache(text, config.kv_cache_bytes, config.block_size, self.dtype, self.device)
        self.block_size = config.block_size
        self.geometry = geometry_of(text)
        self.max_model_len, self.vocab_size = self.geometry.max_model_len, int(self.geometry.vocab)
        window = getattr(text, "sliding_window", None)
        self.sliding_window = window if window and getattr(text, "use_sliding_window", True) else None
        self.swapped: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}   # host K/V by seq id

    def move_blocks(self, step) -> None:
        """Carry out a scheduler ``Step``'s cache moves before its forward pass: swap-outs
        first (the pass may overwrite those blocks), then swap-ins and token-level tail copies."""
        for seq, block_ids in step.swap_out:
            self.swapped[seq.seq_id] = self.kv.swap_out(block_ids)
        for seq, block_ids, first in step.swap_in:
            self.kv.swap_in(self.swapped.pop(seq.seq_id), block_ids, first)
        for src, dst, n in step.copies:
            self.kv.copy_slots(src, dst, n)

    def _batch(self, chunks: list[Chunk]):
        ids, positions, logit_rows, seq_of_token, rows_from = [], [], [], [], []
        row = 0
        for i, c in enumerate(chunks):
            n = c.end - c.start
            ids.extend(c.seq.token_ids[c.start:c.end])
            positions.extend(range(c.start, c.end))
            seq_of_token.extend([i] * n)
            rows_from.append(row)
            logit_rows.extend(row + p - c.start for p in c.seq.logit_positions(c.start, c.end))
            row += n
        dev, bs = self.device, self.block_size
        pos = torch.tensor(positions, device=dev)
        width = max(len(c.seq.block_ids) for c in chunks)
        table = torch.tensor([c.seq.block_ids + [0] * (width - len(c.seq.block_ids)) for c in chunks],
                             device=dev)
        slot_mapping = table[torch.tensor(seq_of_token, device=dev), pos // bs] * bs + pos % bs
        pb = attention.PagedBatch(self.kv, slot_mapping)
        prefix_of = self._cascades(chunks, pb, rows_from)
        # Chunks are attended in padded groups of similar query length (powers of two), so
        # padding at most doubles a group's attention work; decodes form group 1. Members of
        # a cascade attend only past their shared prefix, in groups of their own.
        groups: dict[tuple, tuple[list, list, list, list, list]] = {}
        for i, c in enumerate(chunks):
            cascade, skip = prefix_of.get(i, (None, 0))
            key = (cascade, (c.end - c.start - 1).bit_length())
            tables, starts, ends, rows, offsets = groups.setdefault(key, ([], [], [], [], []))
            tables.append(c.seq.block_ids[skip:])
            starts.append(c.start)
            ends.append(c.end)
            rows.append(rows_from[i])
            offsets.append(skip * bs)
        for (cascade, _), (tables, starts, ends, rows, offsets) in groups.items():
            pb.groups.append(attention.build_group(tables, starts, ends, rows, bs, dev, offsets,
                                                   in_cascade=cascade is not None))
        return ids, pos, pb, logit_rows

    def _cascades(self, chunks: list[Chunk], pb, rows_from: list[int]) -> dict[int, tuple[int, int]]:
        """Find sequences sharing leading cache blocks that all precede their queries; add a
        ``Cascade`` per cluster to ``pb``; return chunk index -> (cascade, shared blocks)."""
        bs = self.block_size
        if self.sliding_window is not None and max(c.end for c in chunks) > self.sliding_window:
            return {}
        keyed = sorted((tuple(c.seq.block_ids[:c.start // bs]), i) for i, c in enumerate(chunks)
                       if c.start >= MIN_CASCADE_BLOCKS * bs
                       and c.end - c.start <= MAX_CASCADE_QUERIES)
        clusters: list[tuple[int, list[int]]] = []      # (shared blocks, chunk indices)
        prefix: tuple = ()
        for key, i in keyed:
            shared = common_prefix(prefix, key) if clusters else 0
            if clusters and shared >= MIN_CASCADE_BLOCKS and 4 * shared >= 3 * clusters[-1][0]:
                clusters[-1] = (shared, clusters[-1][1] + [i])
                prefix = prefix[:shared]
            else:
                clusters.append((len(key), [i]))
                prefix = key
        out = {}
        dev = self.device
        for shared, members in clusters:
            if len(members) < 2:
                continue
            first = chunks[members[0]].seq.block_ids[:shared]
            slots = (torch.tensor(first, device=dev)[:, None] * bs
                     + torch.arange(bs, device=dev)).reshape(-1)
            rows = torch.cat([torch.arange(rows_from[i], rows_from[i] + chunks[i].end - chunks[i].start,
                                           device=dev) for i in members])
            out.update({i: (len(pb.cascades), shared) for i in members})
            pb.cascades.append(attention.Cascade(slots, rows))
        return out

    @torch.inference_mode()
    def forward(self, chunks: list[Chunk]) -> torch.Tensor:
        """Run the chunks; return float32 logits [K, vocab] for every requested position, in
        chunk order then position order (see ``Sequence.logit_positions``)."""
        ids, positions, pb, logit_rows = self._batch(chunks)
        dev = self.device
        out = self.model(
            input_ids=torch.tensor([ids], device=dev),
            position_ids=positions[None],
            logits_to_keep=torch.tensor(logit_rows, device=dev, dtype=torch.long),
            paged_batch=pb, use_cache=False)
        return out.logits[0].float()

