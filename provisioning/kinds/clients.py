"""Clients: the portal, the sidecar, services. A declared client's declared fields are
exact (redirect URIs and web origins as whole lists); a new client gets idpack's safe
defaults. Its `attributes` hold Keycloak's own client settings too, so the keys the
file gives are exact and the others are Keycloak's. Secrets by fingerprint; Keycloak's
built-in clients may be tuned but are never pruned.

The client's schema lives here whole, with what other kinds manage on it (protocol
mappers, default and optional scopes, service-account roles, flow overrides)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Required

from pydantic import AfterValidator, Field, model_validator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import (
    BUILT_IN_CLIENTS,
    FINGERPRINT_PREFIX,
    Kind,
    PlanContext,
    Section,
    pick,
    secret_reference,
    unique,
)
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Bool, ConfigValue, SecretRef, Strict, Text, json_shape

SECRET_FINGERPRINT = FINGERPRINT_PREFIX + "secret"
# Keycloak's own bookkeeping among a client's attributes: never configuration.
KEYCLOAK_ATTRIBUTES = frozenset({"client.secret.creation.time", "realm_client"})
# Managed by kinds of their own (or, for secrets, by fingerprint below).
NOT_SENT = {"secret", "serviceAccountRoles", "protocolMappers", "defaultClientScopes",
            "optionalClientScopes", "authenticationFlowBindingOverrides"}


class ProtocolMapper(Strict):
    type: str = Field(description="protocolMapper id, e.g. oidc-audience-mapper")
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    config: dict[str, ConfigValue] = Field(default_factory=dict)


class ServiceAccountRoles(Strict):
    realm: list[str] = Field(default_factory=list)
    clients: dict[str, list[str]] = Field(default_factory=dict)


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
    # The client scopes this client gets by default, and those it may ask for.
    defaultClientScopes: list[str] | None = None
    optionalClientScopes: list[str] | None = None
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


CLIENTS = Section[dict[str, Client]]("clients", default_factory=dict)


@json_shape
class ProtocolMapperJson(TypedDict, total=False):
    name: Required[str]
    protocol: str | None
    protocolMapper: Required[str]
    config: dict[str, Any] | None


@json_shape
class ClientJson(TypedDict, total=False):
    clientId: Required[str]
    secret: str | None
    publicClient: bool | None
    bearerOnly: bool | None
    serviceAccountsEnabled: bool | None
    attributes: dict[str, Any] | None
    protocolMappers: Annotated[list[ProtocolMapperJson], AfterValidator(unique("name"))] | None
    defaultClientScopes: list[str] | None
    optionalClientScopes: list[str] | None
    authenticationFlowBindingOverrides: dict[str, str] | None


def _representation(client_id: str, client: Client, *, declared_only: bool) -> dict[str, Any]:
    fields = client.declared() if declared_only else client.model_dump(by_alias=True)
    return {"clientId": client_id,
            **{k: v for k, v in fields.items() if k not in NOT_SENT and v is not None}}


class ClientsKind(Kind):
    name = "client"
    sections = (CLIENTS,)
    representation: ClassVar = {
        "clients": Annotated[list[ClientJson], AfterValidator(unique("clientId"))] | None}
    prune_key = "clients"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        declared_clients = CLIENTS.of(ctx.config)
        for client_id, client in declared_clients.items():
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
                changes.append(self._create(client_id, client))
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
            keep = set(declared_clients) | BUILT_IN_CLIENTS
            changes += [
                Change(self.name, client_id, "delete", (FieldChange("clientId", client_id, None),),
                       payload={"id": live["id"]})
                for client_id, live in ctx.live.clients.items() if client_id not in keep
            ]
        return changes

    def _create(self, client_id: str, client: Client) -> Change:
        representation = _representation(client_id, client, declared_only=False)
        fields = field_changes({k: v for k, v in representation.items() if k != "clientId"}, {})
        if client.secret is not None:
            fields.append(FieldChange("secret", secret=True))
            assert client.secret.value is not None
            representation["secret"] = client.secret.value
            representation.setdefault("attributes", {})[SECRET_FINGERPRINT] = (
                client.secret.fingerprint())
        return Change(self.name, client_id, "create", tuple(fields), payload=representation)

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
            entry = {k: v for k, v in pick(client, fields).items() if live.written(v)}
            attributes = {k: v for k, v in (client.get("attributes") or {}).items()
                          if k != SECRET_FINGERPRINT and k not in KEYCLOAK_ATTRIBUTES}
            if attributes:
                entry["attributes"] = attributes
            if (client.get("attributes") or {}).get(SECRET_FINGERPRINT):
                entry["secret"] = secret_reference(client_id)
            clients[client_id] = entry
        return {"clients": clients}
