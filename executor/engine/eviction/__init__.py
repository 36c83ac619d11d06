"""Which cached block to drop when the pool needs a free one: the policies, by name.

* ``lru``: least recently released first (vLLM, SGLang);
* ``lfu``: fewest reuses first, ties least recently released;
* ``belady``: Belady's MIN: the block whose next use in the known request order is furthest
  away. A SQL query knows its request list before it runs; serving systems do not.

``plan`` is an older name of ``belady``, still accepted (saved model options carry it); it is
resolved here and nowhere else. ``EngineConfig`` validates and normalises the name once, with
``resolve_eviction``; the scheduler builds the policy with ``make_eviction_policy``.
"""
from __future__ import annotations

from ..policy_names import resolve_policy
from .base import EvictionPolicy
from .belady import BeladyEviction
from .lfu import LFUEviction
from .lru import LRUEviction

EVICTION_POLICIES: dict[str, type[EvictionPolicy]] = {
    cls.name: cls for cls in (LRUEviction, LFUEviction, BeladyEviction)}
EVICTION_ALIASES = {"plan": "belady"}

__all__ = ["EVICTION_POLICIES", "EVICTION_ALIASES", "EvictionPolicy", "LRUEviction",
           "LFUEviction", "BeladyEviction", "resolve_eviction", "make_eviction_policy"]


def resolve_eviction(name: str) -> str:
    """The canonical name of an eviction policy (``plan`` -> ``belady``); unknown names raise."""
    return resolve_policy("eviction", name, EVICTION_POLICIES, EVICTION_ALIASES)


def make_eviction_policy(name: str) -> EvictionPolicy:
    """A fresh policy; each block manager owns its own."""
    return EVICTION_POLICIES[resolve_eviction(name)]()
