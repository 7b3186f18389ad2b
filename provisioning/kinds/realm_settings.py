"""The realm itself: its settings and attributes. Creates the realm when it is missing."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext
from provisioning.plan import Change

# Flow bindings name flows this same apply may create: FlowBindingsKind sets them later.
FLOW_BINDINGS = ("browserFlow", "registrationFlow", "directGrantFlow", "resetCredentialsFlow",
                 "clientAuthenticationFlow", "dockerAuthenticationFlow", "firstBrokerLoginFlow")


class RealmSettingsKind:
    name = "realm"

    def plan(self, ctx: PlanContext) -> list[Change]:
        declared = {k: v for k, v in ctx.config.settings.declared().items()
                    if k not in FLOW_BINDINGS}
        if not ctx.live.exists:
            representation = {"enabled": True, **declared}
            return [Change(self.name, ctx.config.realm, "create",
                           tuple(field_changes(representation, {})), payload=representation)]
        changes = field_changes(declared, ctx.live.export)
        if not changes:
            return []
        return [Change(self.name, ctx.config.realm, "update", tuple(changes),
                       payload=_partial(declared, changes))]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "create":
            api.create(change.payload)
        else:
            api.update(change.payload)


def _partial(declared: dict[str, Any], changes: list[Any]) -> dict[str, Any]:
    """Only what changed: Keycloak updates the fields a partial representation carries,
    and merges `attributes` key by key."""
    top = {c.path.split(".", 1)[0] for c in changes}
    partial = {k: v for k, v in declared.items() if k in top and k != "attributes"}
    attribute_keys = {c.path.split(".", 1)[1] for c in changes if c.path.startswith("attributes.")}
    if attribute_keys:
        partial["attributes"] = {k: declared["attributes"][k] for k in attribute_keys}
    return partial
