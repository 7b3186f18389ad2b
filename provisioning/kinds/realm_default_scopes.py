"""The client scopes every new client of the realm gets: RealmRepresentation's
`defaultDefaultClientScopes` and `defaultOptionalClientScopes`, lists of scope names.
A declared list is exact."""

from __future__ import annotations

from typing import ClassVar

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import Kind, PlanContext, Section
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange

FIELDS = {"defaultDefaultClientScopes": "default", "defaultOptionalClientScopes": "optional"}
SECTIONS = {field: Section[list[str] | None](field, default=None) for field in FIELDS}


class RealmDefaultClientScopesKind(Kind):
    name = "realm default client scopes"
    sections = tuple(SECTIONS.values())
    representation: ClassVar = dict.fromkeys(FIELDS, list[str] | None)

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for field, which in FIELDS.items():
            wanted = SECTIONS[field].of(ctx.config)
            if wanted is None:
                continue
            have = sorted(ctx.live.export.get(field) or [])
            if ctx.live.exists and set(have) == set(wanted):
                continue
            changes.append(Change(self.name, which, ctx.action, (FieldChange(
                field, have if ctx.live.exists else None, sorted(wanted)),), payload={
                    "which": which, "wanted": sorted(wanted)}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        # From what Keycloak holds now: a new realm comes with defaults of its own.
        which, wanted = change.payload["which"], set(change.payload["wanted"])
        held = {s["name"]: str(s["id"]) for s in api.realm_default_scopes(which)}
        for name in sorted(wanted - set(held)):
            scope = api.client_scope_by_name(name)
            if scope is None:
                raise ValueError(f"no client scope {name!r} in realm {api.name}")
            api.set_realm_default_scope(which, str(scope["id"]), True)
        for name in sorted(set(held) - wanted):
            api.set_realm_default_scope(which, held[name], False)

    def export(self, live: LiveRealm) -> Json | None:
        found = {field: sorted(live.export[field]) for field in FIELDS
                 if live.written(live.export.get(field))}
        return found or None
