"""Which events the realm stores, for how long, and who listens."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext
from provisioning.plan import Change


class EventsKind:
    name = "events"

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
