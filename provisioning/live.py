"""The live realm, read with a fixed handful of requests: one partial export holds the
settings, clients, roles, identity providers with mappers and required actions; one
more read gives the user profile; each service account whose roles the file declares
costs two. Nothing is read per role, per client or per identity provider."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from idpack.keycloak.admin import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin

Json = dict[str, Any]


@dataclass(frozen=True)
class ServiceAccount:
    user_id: str
    realm_roles: frozenset[str]
    client_roles: dict[str, frozenset[str]]  # clientId -> role names


@dataclass
class LiveRealm:
    name: str
    exists: bool
    export: Json = field(default_factory=dict)
    user_profile: Json | None = None
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)

    @cached_property
    def clients(self) -> dict[str, Json]:
        return {c["clientId"]: c for c in self.export.get("clients", [])}

    @cached_property
    def roles(self) -> dict[str, Json]:
        return {r["name"]: r for r in self.export.get("roles", {}).get("realm", [])}

    @cached_property
    def identity_providers(self) -> dict[str, Json]:
        return {p["alias"]: p for p in self.export.get("identityProviders", [])}

    @cached_property
    def identity_provider_mappers(self) -> dict[str, dict[str, Json]]:
        by_alias: dict[str, dict[str, Json]] = {}
        for mapper in self.export.get("identityProviderMappers", []):
            by_alias.setdefault(mapper["identityProviderAlias"], {})[mapper["name"]] = mapper
        return by_alias

    @cached_property
    def required_actions(self) -> dict[str, Json]:
        return {a["alias"]: a for a in self.export.get("requiredActions", [])}

    @property
    def attributes(self) -> dict[str, str]:
        attributes: dict[str, str] = self.export.get("attributes") or {}
        return attributes


def read_live(api: RealmAdmin, service_account_clients: Iterable[str] = ()) -> LiveRealm:
    try:
        export = api.export()
    except KeycloakRequestError as exc:
        if exc.status == 404:
            return LiveRealm(name=api.name, exists=False)
        raise
    live = LiveRealm(name=api.name, exists=True, export=export, user_profile=api.user_profile())
    for client_id in service_account_clients:
        client = live.clients.get(client_id)
        if client is None or not client.get("serviceAccountsEnabled"):
            continue
        user = api.service_account_user(client["id"])
        mappings = api.role_mappings(user["id"])
        live.service_accounts[client_id] = ServiceAccount(
            user_id=user["id"],
            realm_roles=frozenset(r["name"] for r in mappings.get("realmMappings", [])),
            client_roles={
                name: frozenset(r["name"] for r in entry.get("mappings", []))
                for name, entry in (mappings.get("clientMappings") or {}).items()
            },
        )
    return live
