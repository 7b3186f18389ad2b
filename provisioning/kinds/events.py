"""Which events the realm stores, for how long, and who listens."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change
from provisioning.schema_types import Bool, Int, Strict

EventType = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]


class Events(Strict):
    enabled: Bool = True
    expiration: Int | None = Field(default=None, ge=1, description="seconds")
    types: list[EventType] = Field(default_factory=list)
    listeners: list[str] = Field(default_factory=lambda: ["jboss-logging"])
    adminEventsEnabled: Bool = False
    adminEventsDetailsEnabled: Bool = False


class EventsKind:
    name = "events"
    prune_key = None  # settings of the realm: declared or left alone

    def plan(self, ctx: PlanContext) -> list[Change]:
        events = ctx.config.events
        if events is None:
            return []
        want = {
            "eventsEnabled": events.enabled,
            "enabledEventTypes": events.types,
            "eventsListeners": events.listeners,
            "adminEventsEnabled": events.adminEventsEnabled,
            "adminEventsDetailsEnabled": events.adminEventsDetailsEnabled,
        }
        if events.expiration is not None:
            want["eventsExpiration"] = events.expiration
        changes = field_changes(want, ctx.live.export)
        if not changes:
            return []
        return [Change(self.name, ctx.config.realm, ctx.action, tuple(changes), payload=want)]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        api.update(change.payload)

    def export(self, live: LiveRealm) -> Json:
        export = live.export
        events = {
            "enabled": bool(export.get("eventsEnabled")),
            "types": list(export.get("enabledEventTypes") or []),
            "listeners": list(export.get("eventsListeners") or []),
            "adminEventsEnabled": bool(export.get("adminEventsEnabled")),
            "adminEventsDetailsEnabled": bool(export.get("adminEventsDetailsEnabled")),
        }
        if export.get("eventsExpiration"):
            events["expiration"] = export["eventsExpiration"]
        return {"events": events}
