"""Which running sequence gives its blocks back when the pool runs dry, and how.

Two ways out: *recompute* releases the victim's blocks (they stay cached while nothing evicts
them) and prefills it again later; *swap* copies its blocks to host memory and back, keeping
its progress. ``newest`` and ``srf`` always recompute; ``cost`` asks the cost model which
victim and which way out cost least per block freed.
"""
from __future__ import annotations

from .policy_names import resolve_policy
from .sequence import Sequence


class PreemptionPolicy:
    name = "base"

    def bind(self, blocks, cost_model) -> None:
        """Called once by the scheduler: the block manager and the engine's cost model."""
        self.blocks, self.cost_model = blocks, cost_model

    def victim(self, running: list[Sequence]) -> Sequence:
        raise NotImplementedError

    def choose(self, running: list[Sequence], swap_free: int) -> tuple[Sequence, bool]:
        """(victim, swap it?) with ``swap_free`` blocks of host memory left."""
        return self.victim(running), False


class NewestFirst(PreemptionPolicy):
    """The most recently admitted request, vLLM's default: the oldest ones keep their progress."""

    name = "newest"

    def victim(self, running: list[Sequence]) -> Sequence:
        return max(running, key=lambda s: s.arrival)


class ShortestRequestFirst(PreemptionPolicy):
    """The request with the fewest computed tokens (InferMax's SRF): the cheapest to recompute."""

    name = "srf"

    def victim(self, running: list[Sequence]) -> Sequence:
        return max(running, key=lambda s: (-s.num_computed, s.arrival))


class CostAware(PreemptionPolicy):
    """The victim and way out with the lowest cost per block they free (InferMax's cost-aware
    preemption, with swap as a second way out). Recompute costs a prefill of the computed
    tokens; swap costs two host copies of the blocks, and needs room in host memory. Only
    blocks the victim holds alone are freed; shared ones stay pinned by the others."""

    name = "cost"

    def _freed(self, seq: Sequence) -> int:
        return sum(1 for b in seq.block_ids if self.blocks.ref[b] == 1)

    def choose(self, running: list[Sequence], swap_free: int) -> tuple[Sequence, bool]:
        best = None
        for seq in running:
            freed = max(self._freed(seq), 1)
            ways = [(self.cost_model.prefill_seconds(seq.num_computed), False)]
            if 0 < len(seq.block_ids) <= swap_free:
                ways.append((self.cost_model.swap_seconds(len(seq.block_ids)), True))
            cost, swap = min(ways)
            key = (cost / freed, [-x for x in seq.arrival])   # ties: the newest
            if best is None or key < best[0]:
                best = (key, seq, swap)
        return best[1], best[2]

    def victim(self, running: list[Sequence]) -> Sequence:
        return self.choose(running, 0)[0]


PREEMPTION_POLICIES = {cls.name: cls for cls in (NewestFirst, ShortestRequestFirst, CostAware)}


def resolve_preemption(name: str) -> str:
    """``name`` itself if it names a preemption policy; otherwise ``InvalidRequestError``."""
    return resolve_policy("preemption", name, PREEMPTION_POLICIES)


def make_preemption_policy(name: str) -> PreemptionPolicy:
    """A fresh policy; each scheduler owns its own."""
    return PREEMPTION_POLICIES[resolve_preemption(name)]()
