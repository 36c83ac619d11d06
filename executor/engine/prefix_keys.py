"""Which cached blocks a prompt can read: chained content keys, how far a sequence may read,
and how long a prefix two token lists share.

Why a module of its own: the block manager matches waiting sequences against the cache by these
keys, and the ``belady`` eviction policy predicts with the very same keys which blocks waiting
and future requests will read. Both import this module, and it imports neither, so the two
never import each other.
"""
from __future__ import annotations

ROOT = hash("infersql-root")     # the parent key of every chain's first block


def chain_keys(tokens, block_size: int, num_full: int, keys: list[int] | None = None) -> list[int]:
    """Chained content keys of the first ``num_full`` full blocks of ``tokens``: a block's key
    hashes (parent key, its token ids), so equal prefixes have equal keys. Extends ``keys``
    (the ones already known) in place and returns it."""
    keys = [] if keys is None else keys
    while len(keys) < num_full:
        i = len(keys)
        parent = keys[-1] if keys else ROOT
        keys.append(hash((parent, tuple(tokens[i * block_size:(i + 1) * block_size]))))
    return keys


def sequence_keys(seq, block_size: int, num_full: int) -> list[int]:
    """``chain_keys`` of a sequence's first ``num_full`` full blocks, computed once and kept
    on the sequence (``block_hashes``)."""
    return chain_keys(seq.token_ids, block_size, num_full, seq.block_hashes)


def stem_key(parent: int, first_token: int) -> int:
    """The key of every block that follows ``parent`` and starts with ``first_token``: a
    reader whose prompt has this stem can copy at least one leading slot of any such block
    (token-level tails), even when the block's full key is not on its chain."""
    return hash((parent, first_token, "stem"))


def chain_stems(tokens, block_size: int, keys: list[int], limit: int) -> list[int]:
    """The stems of the blocks a reader of ``tokens`` may read from the cache: one per block
    that holds any of its first ``limit`` tokens, chained on its full ``keys``."""
    return [stem_key(keys[i - 1] if i else ROOT, tokens[i * block_size])
            for i in range(-(-limit // block_size))]


def readable_limit(seq) -> int:
    """How many leading tokens of ``seq`` may come from the cache: all but the last, which must
    be computed to give logits, and for a scoring sequence none past the first position whose
    logits it scores."""
    limit = seq.num_tokens - 1
    if seq.is_scoring:
        limit = min(limit, seq.score_start)
    return limit


def common_prefix(a, b) -> int:
    """Length of the longest common prefix of two sequences."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
