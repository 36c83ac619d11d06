"""Which running sequence gives its blocks back when the pool runs dry.

The victim is recomputed later: its blocks are released (and stay cached while nothing evicts
them), and it goes back to the head of the waiting queue.
"""
from __future__ import annotations

from .sequence import Sequence


class PreemptionPolicy:
    name = "base"

    def victim(self, running: list[Sequence]) -> Sequence:
        raise NotImplementedError


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


PREEMPTION_POLICIES = {cls.name: cls for cls in (NewestFirst, ShortestRequestFirst)}


def make_preemption_policy(name: str) -> PreemptionPolicy:
    from .errors import InvalidRequestError

    if name not in PREEMPTION_POLICIES:
        raise InvalidRequestError(
            f"unknown preemption policy {name!r}; choose one of {sorted(PREEMPTION_POLICIES)}")
    return PREEMPTION_POLICIES[name]()
