"""Joining Ray (or starting a local one) and placing the workers.

A local start asks Ray for as many CPUs as the machine has (at least one per worker), with no
dashboard, no usage reporting and no worker logs echoed into the user's terminal: a SQL
session that happens to run on two engines should look like one that does not. Each worker
gets a bundle of a placement group (one GPU each on CUDA; on CPU an equal share of the
cluster's cores), spread over the nodes, so a lost worker's replacement takes the same place.
"""
from __future__ import annotations

import logging
import os
import threading

import ray
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from .settings import ScaleOut
from ..engine.errors import EngineError

log = logging.getLogger(__name__)
PLACEMENT_TIMEOUT = 120.0          # seconds to wait for the cluster to have room for the workers


class ClusterError(EngineError):
    """Ray could not be joined, or has no room for the workers."""


def join(scale: ScaleOut) -> None:
    """Connect this process to Ray: the given cluster, or a new local one (once per process;
    a process already connected keeps its connection)."""
    if ray.is_initialized():
        return
    quiet = dict(log_to_driver=False, logging_level=logging.ERROR)
    if scale.ray_address is None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        cpus = max(scale.workers or 1, os.cpu_count() or 1)
        # "local": never someone else's cluster, which ray.init() alone would join
        options = dict(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
    else:
        options = dict(address=scale.ray_address, **quiet)
    try:
        _init_from_a_lasting_thread(options)
    except Exception as exc:            # noqa: BLE001 - Ray raises many types; say which cluster
        where = scale.ray_address or "a local Ray"
        raise ClusterError(f"cannot start or join {where}: {type(exc).__name__}: {exc}; check "
                           "the address, or run `ray status` on the cluster") from exc


def _init_from_a_lasting_thread(options: dict) -> None:
    """``ray.init`` in a thread that never ends. A local Ray's processes are told to die with
    the *thread* that started them (Linux's parent-death signal follows the thread), and
    engines load inside a statement's thread, which ends with the statement."""
    started, outcome = threading.Event(), []

    def keeper() -> None:
        try:
            ray.init(**options)
            outcome.append(None)
        except BaseException as exc:    # noqa: BLE001 - handed to the caller
            outcome.append(exc)
        started.set()
        threading.Event().wait()        # the Ray processes live as long as this process

    threading.Thread(target=keeper, name="infersql-ray", daemon=True).start()
    started.wait()
    if outcome[0] is not None:
        raise outcome[0]


def is_client() -> bool:
    """A Ray Client connection (``ray://``): no streaming generators there."""
    return ray.util.client.ray.is_connected()


def worker_count(scale: ScaleOut, device: str) -> int:
    """``workers``, or one per GPU (on CUDA) or per node (on CPU) of the joined cluster."""
    if scale.workers:
        return scale.workers
    join(scale)
    if device.startswith("cuda"):
        return max(1, int(ray.cluster_resources().get("GPU", 0)))
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive")))


def bundle(device: str, workers: int) -> dict[str, float]:
    """What one worker asks for: a GPU (and a core) on CUDA, else an equal share of the
    cluster's cores (at least one)."""
    if device.startswith("cuda"):
        return {"GPU": 1, "CPU": 1}
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return {"CPU": max(1, cpus // workers)}


class Placement:
    """A placement group with one bundle per worker slot."""

    def __init__(self, device: str, workers: int) -> None:
        self.bundle = bundle(device, workers)
        self.group = placement_group([dict(self.bundle) for _ in range(workers)], strategy="SPREAD")
        ready, _ = ray.wait([self.group.ready()], timeout=PLACEMENT_TIMEOUT)
        if not ready:
            remove_placement_group(self.group)
            have = {k: v for k, v in ray.available_resources().items() if k in self.bundle}
            raise ClusterError(f"the Ray cluster has no room for {workers} workers of "
                               f"{self.bundle} each within {PLACEMENT_TIMEOUT:.0f} s (available: "
                               f"{have}); ask for fewer workers, or add nodes")

    @property
    def threads(self) -> int:
        return int(self.bundle.get("CPU", 1))

    def options(self, slot: int) -> dict:
        """Actor options that put a worker in its slot's bundle."""
        return dict(num_cpus=self.bundle.get("CPU", 1), num_gpus=self.bundle.get("GPU", 0),
                    scheduling_strategy=PlacementGroupSchedulingStrategy(
                        placement_group=self.group, placement_group_bundle_index=slot))

    def remove(self) -> None:
        try:
            remove_placement_group(self.group)
        except Exception as exc:        # noqa: BLE001 - Ray already gone: nothing to free
            log.debug("placement group not removed: %s", exc)
