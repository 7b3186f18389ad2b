"""The protocol mappers of the client scopes whose file entry lists `protocolMappers`
(the claims a scope puts into tokens, e.g. `ucloud-claims`). Scopes without that key
keep whatever mappers they have; a declared scope's undeclared mappers are pruned with
`clientScopeProtocolMappers`."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import Kind, PlanContext
from provisioning.kinds.client_scopes import (
    BUILT_IN_CLIENT_SCOPES,
    CLIENT_SCOPES,
    live_client_scopes,
)
from provisioning.kinds.mapper_maps import exported_mappers, mapper_changes
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change


class ClientScopeProtocolMappersKind(Kind):
    name = "client scope protocol mapper"
    prune_key = "clientScopeProtocolMappers"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes: list[Change] = []
        scopes = live_client_scopes(ctx.live)
        for scope_name, scope in CLIENT_SCOPES.of(ctx.config).items():
            if scope.protocolMappers is None:
                continue
            changes += mapper_changes(
                self.name, "scope", scope_name, scope.protocolMappers,
                (scopes.get(scope_name) or {}).get("protocolMappers") or [],
                remove_undeclared=self.prune_key in ctx.prune)
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        scope = api.client_scope_by_name(change.payload["scope"])
        if scope is None:
            raise ValueError(f"client scope {change.payload['scope']} does not exist")
        if change.action == "create":
            api.create_client_scope_protocol_mapper(scope["id"], change.payload["representation"])
        elif change.action == "update":
            api.update_client_scope_protocol_mapper(scope["id"], change.payload["id"],
                                                    change.payload["representation"])
        else:
            api.delete_client_scope_protocol_mapper(scope["id"], change.payload["id"])

    def export(self, live: LiveRealm) -> Json:
        """The mappers of the realm's own scopes, in those scopes' entries."""
        return {"clientScopes": {
            name: {"protocolMappers": exported_mappers(scope["protocolMappers"])}
            for name, scope in live_client_scopes(live).items()
            if name not in BUILT_IN_CLIENT_SCOPES and live.written(scope.get("protocolMappers"))}}
