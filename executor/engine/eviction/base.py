"""The interface every eviction policy implements.

A block is *evictable* when no running sequence holds it (reference count 0) but it still has a
content key, so a later request with the same prefix could reuse it. A policy only orders the
evictable set: the block manager tells it when a block becomes evictable (``add``) or is held
again (``remove``), and asks it for the next ``victim``. The block manager owns the blocks.

A policy may also use the request order: the block manager reports each waiting sequence
(``expect``) and each admission (``admitted``), and ``Engine.generate`` and ``simulate`` report
the prompts of later calls (``set_future``) to a policy that ``uses_future``.
"""
from __future__ import annotations


class EvictionPolicy:
    """Told when a block becomes evictable or is reused, asked for a victim.

    ``uses_future`` says whether the policy ranks blocks by the known request order; only then
    does the engine spend the time to tokenize later calls' prompts for ``set_future``.
    """

    name = "base"
    uses_future = False

    def bind(self, blocks) -> None:
        """Called once by the block manager that owns this policy."""
        self.blocks = blocks

    def add(self, block_id: int) -> None:
        raise NotImplementedError

    def remove(self, block_id: int) -> None:
        raise NotImplementedError

    def victim(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def spare_until(self, arrival: tuple[int, int], limit: int) -> int:
        """How many evictable blocks no request up to ``arrival`` (a place in the submitted
        order) will read, counted up to ``limit``. A policy that does not know the order can
        only say how many are evictable."""
        return min(len(self), limit)

    # Knowledge of the request order; ignored by policies that do not use it.
    def expect(self, seq) -> None:
        """``seq`` is waiting to be admitted."""

    def admitted(self, seq) -> None:
        """``seq`` left the waiting queue."""

    def set_future(self, prompts: list[list[int]]) -> None:
        """Prompts that will be submitted after everything now waiting, in order."""

    def forget(self) -> None:
        """Every waiting sequence was dropped (after an error or a cancel)."""
