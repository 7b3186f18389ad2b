"""The protocol mappers of declared clients (an audience mapper, say). A client entry's
`protocolMappers` map is the whole map: mappers it does not name go, and each mapper's
`config` is exact. A client entry without the key keeps its mappers, unless
`clientProtocolMappers` is pruned; Keycloak's built-in clients keep theirs."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import BUILT_IN_CLIENTS, Kind, PlanContext
from provisioning.kinds.clients import CLIENTS
from provisioning.kinds.mapper_maps import exported_mappers, mapper_changes
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change


class ClientProtocolMappersKind(Kind):
    name = "client protocol mapper"
    prune_key = "clientProtocolMappers"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes: list[Change] = []
        pruning = self.prune_key in ctx.prune
        for client_id, client in CLIENTS.of(ctx.config).items():
            if client.protocolMappers is None and (not pruning or client_id in BUILT_IN_CLIENTS):
                continue
            live_client = ctx.live.clients.get(client_id) or {}
            changes += mapper_changes(self.name, "client", client_id,
                                      client.protocolMappers or {},
                                      live_client.get("protocolMappers") or [],
                                      remove_undeclared=True)
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
            client_id: {"protocolMappers": exported_mappers(client["protocolMappers"])}
            for client_id, client in live.clients.items()
            if client_id not in BUILT_IN_CLIENTS and live.written(client.get("protocolMappers"))}}
