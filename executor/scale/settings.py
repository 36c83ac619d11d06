"""How a connection scales out: ``connect(workers=N)``, ``cluster='ray://host:port'`` or
``address='auto'``. Checked when the connection opens, without importing Ray, so a typo or a
missing extra fails there and not at the first LLM call."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from executor.query_errors import BadCallError, InferenceError

INSTALL = "pip install 'infersql[ray]'"


@dataclass(frozen=True)
class ScaleOut:
    """``workers``: engine actors per model (None: one per GPU of the cluster, or one per
    node on CPU). ``cluster``: a Ray Client address (``ray://host:port``) for a driver outside
    the cluster. ``address``: the address of a cluster this machine belongs to (``auto`` finds
    the one ``ray start`` made here). Neither: a local Ray is started for the N workers."""

    workers: int | None = None
    cluster: str | None = None
    address: str | None = None

    @classmethod
    def from_options(cls, workers=None, cluster=None, address=None) -> "ScaleOut | None":
        """The settings, or None when none was given (one engine in this process)."""
        if workers is None and cluster is None and address is None:
            return None
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                    or workers < 1):
            raise BadCallError(f"workers must be a positive integer, got {workers!r}")
        if cluster is not None and address is not None:
            raise BadCallError("give cluster= (a Ray Client address, ray://host:port) or "
                               "address= (a cluster this machine is part of, or 'auto'), not both")
        if cluster is not None and not (isinstance(cluster, str) and cluster.startswith("ray://")):
            raise BadCallError(f"cluster must be a Ray Client address 'ray://host:port', got "
                               f"{cluster!r}; for a cluster this machine is part of use "
                               "address='auto'")
        if address is not None and not (isinstance(address, str) and address):
            raise BadCallError(f"address must be 'auto' or 'host:port', got {address!r}")
        if not ray_installed():
            raise InferenceError(f"workers/cluster/address need Ray, an optional extra: {INSTALL}")
        return cls(workers, cluster, address)

    @property
    def ray_address(self) -> str | None:
        """What ``ray.init(address=...)`` gets; None starts a local Ray."""
        return self.cluster or self.address

    def describe(self) -> str:
        where = self.ray_address or "a local Ray"
        count = f"{self.workers} workers" if self.workers else "one worker per GPU or node"
        return f"{count} on {where}"


def ray_installed() -> bool:
    """Whether Ray can be imported, without importing it."""
    return importlib.util.find_spec("ray") is not None
