"""Which events the realm stores, for how long, and who listens."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, Section
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change
from provisioning.schema_types import Bool, Int, Strict

EventType = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
# The file's names of the realm's fields.
FIELDS = {"enabled": "eventsEnabled", "expiration": "eventsExpiration",
          "types": "enabledEventTypes", "listeners": "eventsListeners",
          "adminEventsEnabled": "adminEventsEnabled",
          "adminEventsDetailsEnabled": "adminEventsDetailsEnabled"}


class Events(Strict):
    enabled: Bool | None = None
    expiration: Int | None = Field(default=None, ge=1, description="seconds")
    types: list[EventType] | None = None
    listeners: list[str] | None = None
    adminEventsEnabled: Bool | None = None
    adminEventsDetailsEnabled: Bool | None = None


EVENTS = Section[Events | None]("events", default=None)


class EventsKind(Kind):
    """Settings of the realm: each declared one is exact (the types and listeners as
    whole lists); the others are left alone."""

    name = "events"
    sections = (EVENTS,)
    representation: ClassVar = {"eventsEnabled": bool | None, "eventsExpiration": int | None,
                      "enabledEventTypes": list[str] | None, "eventsListeners": list[str] | None,
                      "adminEventsEnabled": bool | None, "adminEventsDetailsEnabled": bool | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        events = EVENTS.of(ctx.config)
        if events is None:
            return []
        want = {FIELDS[k]: v for k, v in events.declared().items()}
        changes = field_changes(want, ctx.live.export)
        if not changes:
            return []
        return [Change(self.name, ctx.config.realm, ctx.action, tuple(changes), payload=want)]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        api.update(change.payload)

    def export(self, live: LiveRealm) -> Json | None:
        """The fields the source holds (Keycloak always holds all but the expiration)."""
        events = {name: live.export[field] for name, field in FIELDS.items()
                  if live.export.get(field) is not None}
        return {"events": events} if events else None
