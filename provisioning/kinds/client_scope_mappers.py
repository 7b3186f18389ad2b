"""The protocol mappers of the client scopes whose file entry lists `protocolMappers`
(the claims a scope puts into tokens, e.g. `ucloud-claims`). Scopes without that key
keep whatever mappers they have; a declared scope's undeclared mappers are pruned with
`clientScopeProtocolMappers`."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext
from provisioning.kinds.client_scopes import (
    BUILT_IN_CLIENT_SCOPES,
    CLIENT_SCOPES,
    live_client_scopes,
)
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange


class ClientScopeProtocolMappersKind(Kind):
    name = "client scope protocol mapper"
    prune_key = "clientScopeProtocolMappers"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        scopes = live_client_scopes(ctx.live)
        for scope_name, scope in CLIENT_SCOPES.of(ctx.config).items():
            if scope.protocolMappers is None:
                continue
            live_mappers = {m["name"]: m for m in
                            (scopes.get(scope_name) or {}).get("protocolMappers") or []}
            for name, mapper in scope.protocolMappers.items():
                declared: dict[str, Any] = {"protocol": mapper.protocol,
                                            "protocolMapper": mapper.type,
                                            "config": dict(mapper.config)}
                live = live_mappers.get(name)
                title = f"{scope_name}/{name}"
                if live is None:
                    changes.append(Change(self.name, title, "create",
                                          tuple(field_changes(declared, {})),
                                          payload={"scope": scope_name, "representation": {
                                              "name": name, **declared}}))
                    continue
                fields = field_changes(declared, {**live, "config": live.get("config") or {}},
                                       exact=("config",))
                if fields:
                    changes.append(Change(self.name, title, "update", tuple(fields), payload={
                        "scope": scope_name, "id": live["id"], "representation": {
                            **live, **declared}}))
            if self.prune_key in ctx.prune:
                changes += [
                    Change(self.name, f"{scope_name}/{name}", "delete",
                           (FieldChange("name", name, None),),
                           payload={"scope": scope_name, "id": live["id"]})
                    for name, live in live_mappers.items() if name not in scope.protocolMappers
                ]
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
            name: {"protocolMappers": {
                m["name"]: {"type": m["protocolMapper"],
                            "protocol": m.get("protocol") or "openid-connect",
                            "config": dict(m.get("config") or {})}
                for m in scope["protocolMappers"]}}
            for name, scope in live_client_scopes(live).items()
            if name not in BUILT_IN_CLIENT_SCOPES and live.written(scope.get("protocolMappers"))}}
