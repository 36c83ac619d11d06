"""Prefix figures of one query's prompts, computed from their token ids, for query_bench.

Why here and not from the engine: these are the yardsticks a run is measured against, so they
must not depend on the system under test. One pass over a token trie gives
- ``trie_tokens``: distinct prefix tokens, i.e. what must be prefilled if every distinct prefix
  is computed exactly once (the upper bound of prefix sharing: 1 - trie / total);
- ``shared_tokens``: trie tokens that lie on the path of two or more prompts, i.e. the KV of
  the distinct *shared* prefixes, which sizes the benchmark's small KV budget;
- ``adjacent_hits``: tokens each prompt shares with the one right before it, the LLM-SQL
  paper's prefix hit rate of an order (here: table order).
"""
from __future__ import annotations

from dataclasses import dataclass

from executor.engine.prefix_keys import common_prefix


@dataclass(frozen=True)
class PrefixStats:
    prompts: int
    total_tokens: int
    trie_tokens: int
    shared_tokens: int
    adjacent_hits: int
    longest: int

    @property
    def upper_bound(self) -> float:
        """Hit rate when every distinct prefix is computed once."""
        return 1 - self.trie_tokens / self.total_tokens if self.total_tokens else 0.0

    @property
    def table_order(self) -> float:
        """Hit rate of the given order, counting only the previous prompt (the paper's PHR)."""
        return self.adjacent_hits / self.total_tokens if self.total_tokens else 0.0


def prefix_stats(token_lists: list[list[int]]) -> PrefixStats:
    """Figures of ``token_lists`` in the order given."""
    root: dict = {}
    counts: dict[int, int] = {}          # id(node) -> prompts through it
    for ids in token_lists:
        node = root
        for t in ids:
            node = node.setdefault(t, {})
            counts[id(node)] = counts.get(id(node), 0) + 1
    adjacent = sum(common_prefix(a, b) for a, b in zip(token_lists, token_lists[1:]))
    return PrefixStats(prompts=len(token_lists), total_tokens=sum(map(len, token_lists)),
                       trie_tokens=len(counts), shared_tokens=sum(c >= 2 for c in counts.values()),
                       adjacent_hits=adjacent, longest=max(map(len, token_lists), default=0))
