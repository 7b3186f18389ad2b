"""The protocol mappers of the clients whose file entry lists `protocolMappers` (an
audience mapper, say). Clients without that key keep whatever mappers they have."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import BUILT_IN_CLIENTS, PlanContext
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import ConfigValue, Strict


class ProtocolMapper(Strict):
    type: str = Field(description="protocolMapper id, e.g. oidc-audience-mapper")
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    config: dict[str, ConfigValue] = Field(default_factory=dict)


class ClientProtocolMappersKind:
    name = "client protocol mapper"
    prune_key = "clientProtocolMappers"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for client_id, client in ctx.config.clients.items():
            if client.protocolMappers is None:
                continue
            live_client = ctx.live.clients.get(client_id) or {}
            live_mappers = {m["name"]: m for m in live_client.get("protocolMappers") or []}
            for name, mapper in client.protocolMappers.items():
                declared: dict[str, Any] = {"protocol": mapper.protocol,
                                            "protocolMapper": mapper.type,
                                            "config": dict(mapper.config)}
                live = live_mappers.get(name)
                title = f"{client_id}/{name}"
                if live is None:
                    changes.append(Change(self.name, title, "create",
                                          tuple(field_changes(declared, {})),
                                          payload={"client": client_id, "representation": {
                                              "name": name, **declared}}))
                    continue
                fields = field_changes(declared, live)
                if fields:
                    changes.append(Change(self.name, title, "update", tuple(fields), payload={
                        "client": client_id, "id": live["id"], "representation": {
                            **live, **declared, "config": {**live.get("config", {}),
                                                           **mapper.config}}}))
            if self.prune_key in ctx.prune:
                changes += [
                    Change(self.name, f"{client_id}/{name}", "delete",
                           (FieldChange("name", name, None),),
                           payload={"client": client_id, "id": live["id"]})
                    for name, live in live_mappers.items() if name not in client.protocolMappers
                ]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        client = api.client_by_client_id(change.payload["client"])
        if client is None:
            raise ValueError(f"client {change.payload['client']} does not exist")
        if change.action == "create":
            api.create_client_protocol_mapper(client["id"], change.payload["representation"])
        elif change.action == "update":
            api.update_client_protocol_mapper(client["id"], change.payload["id"],
                                              change.payload["representation"])
        else:
            api.delete_client_protocol_mapper(client["id"], change.payload["id"])

    def export(self, live: LiveRealm) -> Json:
        """The mappers of the realm's own clients, in those clients' entries."""
        return {"clients": {
            client_id: {"protocolMappers": {
                m["name"]: {"type": m["protocolMapper"], "protocol": m["protocol"],
                            "config": dict(m.get("config") or {})}
                for m in client["protocolMappers"]}}
            for client_id, client in live.clients.items()
            if client_id not in BUILT_IN_CLIENTS and client.get("protocolMappers")}}
