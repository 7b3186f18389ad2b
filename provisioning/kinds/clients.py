"""Clients: the portal, the sidecar, services. Only declared fields are managed (a
new client gets idpack's safe defaults); secrets by fingerprint; Keycloak's built-in
clients may be tuned but are never pruned."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import FINGERPRINT_PREFIX, PlanContext
from provisioning.plan import Change, FieldChange
from provisioning.schema import Client

BUILT_IN_CLIENTS = frozenset({"account", "account-console", "admin-cli", "broker",
                              "realm-management", "security-admin-console"})
SECRET_FINGERPRINT = FINGERPRINT_PREFIX + "secret"
# Managed by kinds of their own (or, for secrets, by fingerprint below).
NOT_SENT = {"secret", "serviceAccountRoles", "protocolMappers", "defaultClientScopes",
            "authenticationFlowBindingOverrides"}


def _representation(client_id: str, client: Client, *, declared_only: bool) -> dict[str, Any]:
    fields = client.declared() if declared_only else client.model_dump(by_alias=True)
    return {"clientId": client_id,
            **{k: v for k, v in fields.items() if k not in NOT_SENT and v is not None}}


class ClientsKind:
    name = "client"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for client_id, client in ctx.config.clients.items():
            live = ctx.live.clients.get(client_id)
            if live is None and client_id in BUILT_IN_CLIENTS:
                # Keycloak makes it with the realm: tune only what the file declares
                # (idpack's defaults for new clients would turn it into another client).
                tuned = _representation(client_id, client, declared_only=True)
                if len(tuned) > 1 or client.secret is not None:
                    changes.append(Change(self.name, client_id, "update", tuple(field_changes(
                        {k: v for k, v in tuned.items() if k != "clientId"}, {})),
                        payload={"id": None, "representation": tuned}))
                continue
            if live is None:
                representation = _representation(client_id, client, declared_only=False)
                fields = field_changes({k: v for k, v in representation.items()
                                        if k != "clientId"}, {})
                if client.secret is not None:
                    fields.append(FieldChange("secret", secret=True))
                    assert client.secret.value is not None
                    representation["secret"] = client.secret.value
                    representation.setdefault("attributes", {})[SECRET_FINGERPRINT] = (
                        client.secret.fingerprint())
                changes.append(Change(self.name, client_id, "create", tuple(fields),
                                      payload=representation))
                continue
            declared = _representation(client_id, client, declared_only=True)
            fields = field_changes(declared, live)
            update: dict[str, Any] = {"clientId": client_id}
            for top in {f.path.split(".", 1)[0] for f in fields}:
                update[top] = declared[top]
            if client.secret is not None and not client.secret.matches(
                    (live.get("attributes") or {}).get(SECRET_FINGERPRINT)):
                fields.append(FieldChange("secret", secret=True))
                assert client.secret.value is not None
                update["secret"] = client.secret.value
                update["attributes"] = {**update.get("attributes", {}),
                                        SECRET_FINGERPRINT: client.secret.fingerprint()}
            if fields:
                changes.append(Change(self.name, client_id, "update", tuple(fields),
                                      payload={"id": live["id"], "representation": update}))
        if "clients" in ctx.prune:
            keep = set(ctx.config.clients) | BUILT_IN_CLIENTS
            changes += [
                Change(self.name, client_id, "delete", (FieldChange("clientId", client_id, None),),
                       payload={"id": live["id"]})
                for client_id, live in ctx.live.clients.items() if client_id not in keep
            ]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "create":
            existing = api.client_by_client_id(change.name)
            if existing is None:
                api.create_client(change.payload)
            else:  # created by an apply that was cut off before it could finish
                api.update_client(existing["id"], change.payload)
        elif change.action == "update":
            uuid = change.payload["id"]
            if uuid is None:  # a built-in client of a realm made by this same apply
                built_in = api.client_by_client_id(change.name)
                assert built_in is not None, f"Keycloak has no client {change.name}"
                uuid = built_in["id"]
            api.update_client(uuid, change.payload["representation"])
        else:
            api.delete_client(change.payload["id"])
