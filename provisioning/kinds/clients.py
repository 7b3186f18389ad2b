"""Clients: the portal, the sidecar, services. Only declared fields are managed (a
new client gets idpack's safe defaults); secrets by fingerprint; Keycloak's built-in
clients may be tuned but are never pruned."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import (
    BUILT_IN_CLIENTS,
    FINGERPRINT_PREFIX,
    PlanContext,
    pick,
    secret_reference,
)
from provisioning.kinds.client_protocol_mappers import ProtocolMapper
from provisioning.kinds.service_accounts import ServiceAccountRoles
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Bool, ConfigValue, SecretRef, Strict, Text

SECRET_FINGERPRINT = FINGERPRINT_PREFIX + "secret"
# Managed by kinds of their own (or, for secrets, by fingerprint below).
NOT_SENT = {"secret", "serviceAccountRoles", "protocolMappers", "defaultClientScopes",
            "authenticationFlowBindingOverrides"}


class Client(Strict):
    name: Text | None = None
    description: Text | None = None
    enabled: Bool = True
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    publicClient: Bool = False
    bearerOnly: Bool | None = None
    standardFlowEnabled: Bool = True
    implicitFlowEnabled: Bool = False
    directAccessGrantsEnabled: Bool = False
    serviceAccountsEnabled: Bool = False
    frontchannelLogout: Bool | None = None
    consentRequired: Bool | None = None
    fullScopeAllowed: Bool | None = None
    rootUrl: Text | None = None
    baseUrl: Text | None = None
    adminUrl: Text | None = None
    redirectUris: list[Text] | None = None
    webOrigins: list[Text] | None = None
    attributes: dict[str, ConfigValue] | None = None
    secret: SecretRef | None = None
    # The fields below are managed by kinds of their own (see NOT_SENT).
    serviceAccountRoles: ServiceAccountRoles | None = None
    protocolMappers: dict[str, ProtocolMapper] | None = None
    # Client scopes this client gets by default, besides those it has (never removed).
    defaultClientScopes: list[str] | None = None
    # Flows this client uses instead of the realm's, by alias (applied once they exist).
    authenticationFlowBindingOverrides: dict[Literal["browser", "direct_grant"], Text] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Client:
        if self.publicClient and self.secret is not None:
            raise ValueError("a public client has no secret")
        if self.publicClient and self.serviceAccountsEnabled:
            raise ValueError("a public client cannot have a service account")
        if self.serviceAccountRoles is not None and not self.serviceAccountsEnabled:
            raise ValueError("serviceAccountRoles needs serviceAccountsEnabled: true")
        return self


def _representation(client_id: str, client: Client, *, declared_only: bool) -> dict[str, Any]:
    fields = client.declared() if declared_only else client.model_dump(by_alias=True)
    return {"clientId": client_id,
            **{k: v for k, v in fields.items() if k not in NOT_SENT and v is not None}}


class ClientsKind:
    name = "client"
    prune_key = "clients"

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
        if self.prune_key in ctx.prune:
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

    def export(self, live: LiveRealm) -> Json:
        """The realm's own clients, without what other kinds write into their entries."""
        fields = [f for f in Client.model_fields if f not in NOT_SENT and f != "attributes"]
        clients = {}
        for client_id, client in live.clients.items():
            if client_id in BUILT_IN_CLIENTS:
                continue
            entry = pick(client, fields)
            attributes = {k: v for k, v in (client.get("attributes") or {}).items()
                          if k != SECRET_FINGERPRINT}
            if attributes:
                entry["attributes"] = attributes
            if (client.get("attributes") or {}).get(SECRET_FINGERPRINT):
                entry["secret"] = secret_reference(client_id)
            clients[client_id] = entry
        return {"clients": clients}
