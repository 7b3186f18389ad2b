"""The realm's user events and admin events, oldest first."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.areas.base import PAGE_SIZE, Json, RealmEndpoint


class EventsApi(RealmEndpoint):
    def admin_events(self, since_ms: int, resource_types: list[str], *, first: int = 0,
                     limit: int = PAGE_SIZE) -> list[Json]:
        """Admin events from `since_ms` on (epoch milliseconds), oldest first."""
        events: list[Json] = self._send("GET", "/admin-events", params={
            "dateFrom": str(since_ms), "resourceTypes": resource_types,
            "direction": "asc", "first": first, "max": limit})
        return events

    def events(self, types: list[str], since_ms: int, *, until_ms: int | None = None,
               first: int = 0, limit: int = 100) -> list[Json]:
        """User events (REGISTER, LOGIN, ...) from `since_ms` to `until_ms` (epoch
        milliseconds, both inclusive), oldest first; Keycloak orders by time alone, so
        events of one millisecond come in no fixed order."""
        params: dict[str, Any] = {"type": types, "dateFrom": str(since_ms),
                                  "direction": "asc", "first": first, "max": limit}
        if until_ms is not None:
            params["dateTo"] = str(until_ms)
        events: list[Json] = self._send("GET", "/events", params=params)
        return events
