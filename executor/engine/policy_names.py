"""Looking a policy up by the name a user wrote: one rule and one error text for every registry
(eviction and preemption), so a typo fails the same way wherever it is caught."""
from __future__ import annotations

from .errors import InvalidRequestError


def resolve_policy(kind: str, name, registry: dict, aliases: dict | None = None) -> str:
    """The canonical name that ``name`` means in ``registry`` (an alias resolves to its
    target); an unknown name raises ``InvalidRequestError`` listing the canonical choices."""
    if isinstance(name, str):
        name = (aliases or {}).get(name, name)
    if not isinstance(name, str) or name not in registry:
        raise InvalidRequestError(
            f"unknown {kind} policy {name!r}; choose one of {sorted(registry)}")
    return name
