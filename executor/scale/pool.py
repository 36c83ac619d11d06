"""EnginePool: N engines on Ray actors, behind the ``Engine`` interface the executor uses.

``generate(requests, progress=, on_result=, should_stop=, future=)`` keeps the engine's
contract: outputs in request order, ``on_result(i, out)`` as each request finishes (the
SQL layer stores it in the result cache right then), ``progress(done, total)``, and
``should_stop`` read often. ``stats`` sums the workers' counters and lists them per worker
(``workers``); ``tokenizer``, ``max_model_len`` and ``num_blocks`` (per worker) answer on the
driver. A worker lost in one call is replaced at the start of the next, in the same place of
the placement group.

Requests are checked on the driver before any work starts, as the engine checks them (a bad
one names its index); a ``json_schema`` is compiled where its grammar runs, on the worker.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import re
from dataclasses import dataclass, field

import ray

from executor.engine.errors import EngineError, ModelLoadError
from executor.engine.eviction import EVICTION_POLICIES
from executor.engine.request import Request
from executor.engine.requests_prep import encode_prompt, prepare_all

from . import cluster
from .dispatch import OperatorRun, RunReport
from .pool_stats import PoolStats
from .settings import ScaleOut
from .worker import EngineWorker

log = logging.getLogger(__name__)


@dataclass
class Slot:
    """One place of the placement group and the worker in it (a replacement gets a new id)."""

    index: int
    worker_id: int
    actor: object
    node: str = "?"
    info: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)   # the worker's latest cumulative counters
    answered: int = 0                              # outputs received from it
    lost: str | None = None


@dataclass(frozen=True)
class PoolBlocks:
    """What callers read of an engine's block manager: the eviction policy the workers run
    (its class tells whether it ``uses_future``)."""

    eviction: type


class EnginePool:
    def __init__(self, config, cost_model, scale: ScaleOut, load_tokenizer) -> None:
        """``load_tokenizer()`` gives the model's tokenizer on the driver; it runs while the
        workers load the model."""
        cluster.join(scale)
        self.config, self.cost_model, self.scale = config, cost_model, scale
        self.client = cluster.is_client()
        self.blocks = PoolBlocks(EVICTION_POLICIES[config.eviction])
        self.last_run = RunReport()
        self._worker_ids = itertools.count()
        self._epochs = itertools.count()
        self._retired: list[Slot] = []         # lost workers, whose counters still count
        workers = cluster.worker_count(scale, config.device)
        self.placement = cluster.Placement(config.device, workers)
        self.slots: list[Slot] = []
        try:
            self.slots = self._start(range(len(self.placement.group.bundle_specs)),
                                     meanwhile=load_tokenizer)
        except BaseException:
            self.close()
            raise
        info = self.slots[0].info
        self.max_model_len, self.num_blocks = info["max_model_len"], info["num_blocks"]
        self.vocab_size = info["vocab_size"]

    # ---- the engine's interface ----------------------------------------------------------
    @property
    def workers(self) -> int:
        return len(self.alive())

    @property
    def stats(self) -> PoolStats:
        return PoolStats.of(self.slots + self._retired)

    @property
    def break_even_seconds(self) -> float:
        return self.cost_model.break_even_seconds(self.config.block_size, self.num_blocks)

    def reset_stats(self) -> None:
        ray.get([s.actor.reset_stats.remote() for s in self.alive()])
        for slot in self.alive():
            slot.counters, slot.answered = {}, 0
        self._retired.clear()

    def generate(self, requests: list, progress=None, on_result=None, should_stop=None,
                 future: list | None = None) -> list:
        """``Engine.generate`` over the workers: the requests (in trie order) are checked
        here, routed by prefix into per-worker shares, and answered as the workers finish
        them; ``future`` (later operators' requests) is routed too, each worker told its part."""
        if not requests:
            return []
        checked = [dataclasses.replace(r, json_schema=None) for r in requests]
        preps = prepare_all(checked, self.tokenizer, self.max_model_len, self.vocab_size,
                            self.num_blocks, self.config.block_size)
        sent = [dataclasses.replace(r, prompt=None, prompt_ids=p.prompt_ids, chat=False)
                for r, p in zip(requests, preps)]
        later = [list(r.prompt_ids) if r.prompt_ids is not None
                 else encode_prompt(self.tokenizer, r.prompt, r.chat)
                 for r in future or () if r.prompt_ids is not None or r.prompt]
        self._replace_lost()
        decodes = [1 if r.choices is not None else r.max_tokens for r in requests]
        box = ray.put((sent, [Request(prompt_ids=ids) for ids in later]))
        run = OperatorRun(self, next(self._epochs), box, [p.prompt_ids for p in preps], decodes,
                          later, progress, on_result, should_stop)
        try:
            return run.run()
        finally:
            self.last_run = run.report

    def close(self) -> None:
        """Stop every worker and free their places."""
        for slot in self.slots:
            try:
                ray.kill(slot.actor)
            except Exception as exc:        # noqa: BLE001 - already gone
                log.debug("worker %s not killed: %s", slot.worker_id, exc)
        self.placement.remove()

    # ---- workers -------------------------------------------------------------------------
    def alive(self) -> list[Slot]:
        return [s for s in self.slots if s.lost is None]

    def lose(self, slot: Slot, exc: BaseException) -> str:
        """Mark ``slot``'s worker lost; the reason, in a few words."""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        slot.lost = f"worker {slot.worker_id} on {slot.node}: {type(exc).__name__} {first}"[:200]
        log.warning("lost %s", slot.lost)
        return slot.lost

    def _start(self, indexes, meanwhile=None) -> list[Slot]:
        """Start a worker in each place and wait until every one has loaded its model (the
        driver's tokenizer loads ``meanwhile``)."""
        slots = []
        for i in indexes:
            actor = EngineWorker.options(**self.placement.options(i)).remote(
                self.config, self.cost_model, self.placement.threads)
            slots.append(Slot(i, next(self._worker_ids), actor))
        try:
            if meanwhile is not None:
                self.tokenizer = meanwhile()
            infos = ray.get([s.actor.info.remote() for s in slots])
        except BaseException as exc:
            for s in slots:
                ray.kill(s.actor)
            if not isinstance(exc, ray.exceptions.RayActorError):
                raise
            raise ModelLoadError(f"a Ray worker could not load {self.config.model!r}: "
                                 f"{_creation_error(exc)}") from None
        for slot, info in zip(slots, infos):
            slot.info, slot.node = info, info["node"]
        return slots

    def _replace_lost(self) -> None:
        """Workers lost in an earlier call get successors in their places."""
        lost = [s for s in self.slots if s.lost is not None]
        if not lost:
            return
        try:
            fresh = {s.index: s for s in self._start([s.index for s in lost])}
        except EngineError as exc:
            if not self.alive():
                raise
            log.warning("lost workers not replaced: %s", exc)
            return
        self._retired += lost
        self.slots = [fresh.get(s.index, s) if s.lost is not None else s for s in self.slots]


def _creation_error(exc: BaseException) -> str:
    """The worker's own error when its constructor failed, without Ray's framing."""
    text = str(exc)
    for line in reversed(text.splitlines()):
        if "Error:" in line and "ray." not in line.split("Error:")[0]:
            return re.sub(r"^[\w.]*\.(\w+Error:)", r"\1", line.strip())   # no module path
    return text.strip().splitlines()[-1] if text.strip() else type(exc).__name__
