"""Prefix sharing, measured and planned: the order of requests that shares the most prompt.

Sorting prompts by their token ids visits the prefix trie depth first: every shared prefix is
then used by one contiguous run of requests, so it is computed once and is never needed again
after the run ends. With the fields in a fixed order that is the most sharing any order can
get (each trie node computed once), and an LRU cache that holds one root-to-leaf path plus the
batch in flight loses none of it. GGR (Liu et al., arXiv 2403.05821) reaches the same bound
greedily; the sort reaches it exactly, in O(n log n) comparisons of token lists.

The metric is the paper's prefix hit rate: the share of prompt tokens that an earlier request
in the order already computed, with an unbounded cache.
"""
from __future__ import annotations

_MAX_WINDOW = 256          # prompts compared against, at most (keeps the estimate linear)


def prefix_sorted(token_lists: list[list[int]]) -> list[int]:
    """Indexes of ``token_lists`` in depth-first trie order (lexicographic by token id)."""
    return sorted(range(len(token_lists)), key=lambda i: token_lists[i])


def shared_with_previous(token_lists: list[list[int]]) -> list[int]:
    """For each list, in the given order, the tokens its longest common prefix with any
    earlier list covers (an unbounded cache: every computed prefix stays)."""
    seen: dict = {}
    out = []
    for ids in token_lists:
        node, depth = seen, 0
        for t in ids:
            nxt = node.get(t)
            if nxt is None:
                break
            node, depth = nxt, depth + 1
        out.append(depth)
        node = seen
        for t in ids:
            node = node.setdefault(t, {})
    return out


def hit_rate(sequences: list) -> float:
    """The upper bound of the prefix hit rate: the share of all tokens (or characters, for
    strings) that an earlier sequence's prefix covers when nothing is evicted. It does not
    depend on the order (every distinct prefix is computed once, whenever it comes first), so
    it is computed in sorted order, where the longest earlier match is the predecessor's."""
    total = sum(len(s) for s in sequences)
    if not total:
        return 0.0
    ordered = sorted(sequences)
    shared = sum(_common(a, b) for a, b in zip(ordered, ordered[1:]))
    return shared / total


def _common(a, b) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def windowed_hit_rate(token_lists: list[list[int]], window_tokens: int) -> float:
    """Share of prompt tokens shared with a prompt among the last ones whose tokens fit in
    ``window_tokens``: a rough model of a cache that keeps only recent prefixes (LRU under a
    KV budget), to compare orders when the cache is small."""
    total = sum(len(t) for t in token_lists)
    if not total:
        return 0.0
    hits, recent, held = 0, [], 0
    for ids in token_lists:
        best = 0
        for prev in recent:
            n = 0
            for a, b in zip(ids, prev):
                if a != b:
                    break
                n += 1
            best = max(best, n)
        hits += best
        recent.append(ids)
        held += len(ids)
        while (held > window_tokens or len(recent) > _MAX_WINDOW) and len(recent) > 1:
            held -= len(recent.pop(0))
    return hits / total
