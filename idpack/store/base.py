"""The store interface the sidecar and the relay share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from idpack.errors import IdpackError


class StoreUnavailable(IdpackError):
    """The store cannot be reached (Redis down, restarting, loading its file): callers
    degrade (a local count, a journal, a 503 that says to retry), never crash."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float  # seconds until the oldest counted hit leaves the window


class Store(Protocol):
    def put(self, namespace: str, key: str, value: dict[str, Any], ttl: float) -> None:
        """Keep `value` under (namespace, key) for `ttl` seconds, replacing any."""

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        """The value, or None if absent or expired."""

    def take(self, namespace: str, key: str) -> dict[str, Any] | None:
        """Get and delete in one step: of two concurrent takers only one gets it."""

    def hit(self, key: str, window: float, limit: int) -> Verdict:
        """Count one event for `key` in a sliding window of `window` seconds; refused
        (and not counted) when `limit` events are already in the window."""

    def ping(self) -> None:
        """Return if the store answers; StoreUnavailable if not (readiness checks)."""
