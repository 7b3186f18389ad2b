"""The protocol mappers of declared clients (an audience mapper, say). A client entry's
`protocolMappers` map is the whole map: mappers it does not name go, and each mapper's
`config` is exact. A client entry without the key keeps its mappers, unless
`clientProtocolMappers` is pruned; Keycloak's built-in clients keep theirs."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import BUILT_IN_CLIENTS, Kind, PlanContext
from provisioning.kinds.clients import CLIENTS
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange


class ClientProtocolMappersKind(Kind):
    name = "client protocol mapper"
    prune_key = "clientProtocolMappers"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        pruning = self.prune_key in ctx.prune
        for client_id, client in CLIENTS.of(ctx.config).items():
            if client.protocolMappers is None and (not pruning or client_id in BUILT_IN_CLIENTS):
                continue
            declared_mappers = client.protocolMappers or {}
            live_client = ctx.live.clients.get(client_id) or {}
            live_mappers = {m["name"]: m for m in live_client.get("protocolMappers") or []}
            for name, mapper in declared_mappers.items():
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
                fields = field_changes(declared, {**live, "config": live.get("config") or {}},
                                       exact=("config",))
                if fields:
                    changes.append(Change(self.name, title, "update", tuple(fields), payload={
                        "client": client_id, "id": live["id"], "representation": {
                            **live, **declared}}))
            changes += [Change(self.name, f"{client_id}/{name}", "delete",
                               (FieldChange("name", name, None),),
                               payload={"client": client_id, "id": live["id"]})
                        for name, live in live_mappers.items() if name not in declared_mappers]
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
                m["name"]: {"type": m["protocolMapper"],
                            "protocol": m.get("protocol") or "openid-connect",
                            "config": dict(m.get("config") or {})}
                for m in client["protocolMappers"]}}
            for client_id, client in live.clients.items()
            if client_id not in BUILT_IN_CLIENTS and live.written(client.get("protocolMappers"))}}
