"""The live realm, read with a fixed handful of requests: a partial export holds the
settings, roles, identity providers with their mappers and required actions; one list
gives the clients (a page holds 5,000), one read the user profile. The kinds that need
more read it themselves (ResourceKind.read: the roles of a service account the file
declares, the roles of a client it declares, ...). Nothing is read per role, per
client or per identity provider of the realm.

Measured on a realm of 500 clients and 2,000 roles: the export with clients takes 30 s
and listing roles 2.5 s, while the export with roles but without clients takes 0.2 s
and listing clients 0.25 s; hence this split."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
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
    """The raw snapshot, and the views of it that several kinds share. A view only one
    kind needs is a function in that kind's module."""

    name: str
    exists: bool
    export: Json = field(default_factory=dict)
    client_list: list[Json] = field(default_factory=list)
    user_profile: Json | None = None
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    # clientId -> its roles, for the clients whose roles were read (read_client_roles):
    # the partial export leaves client roles out unless it exports every client.
    client_roles: dict[str, list[Json]] = field(default_factory=dict)
    # username -> user with its groups and roles, for the users the file declares.
    users: dict[str, Json] = field(default_factory=dict)
    # name -> organization, read only when the file declares or prunes organizations.
    organizations: dict[str, Json] = field(default_factory=dict)
    # (holder kind, holder) -> scope mappings, read for the holders the file declares
    # (the partial export holds them only with every client); None: from the export.
    scope_mappings: dict[tuple[str, str], Json] | None = None
    # Whether an empty map or list of the source is written by export. Keycloak's own
    # reads hold every field, empty or not, so exports leave the empty ones out; in a
    # realm JSON written by hand, an empty list declares that there are none.
    keep_empty: bool = False

    def written(self, value: Any) -> bool:
        """Whether export writes this value of the source."""
        return value is not None and (self.keep_empty or value not in ({}, []))

    @cached_property
    def clients(self) -> dict[str, Json]:
        return {c["clientId"]: c for c in self.client_list}

    @cached_property
    def roles(self) -> dict[str, Json]:
        return {r["name"]: r for r in (self.export.get("roles") or {}).get("realm") or []}

    @property
    def default_role(self) -> str:
        """The realm role every user holds, whose composites are the default roles."""
        named = (self.export.get("defaultRole") or {}).get("name")
        return str(named) if named else default_role_name(self.name)

    @cached_property
    def identity_providers(self) -> dict[str, Json]:
        return {p["alias"]: p for p in self.export.get("identityProviders") or []}

    @property
    def attributes(self) -> dict[str, str]:
        attributes: dict[str, str] = self.export.get("attributes") or {}
        return attributes


def default_role_name(realm: str) -> str:
    """What Keycloak names a new realm's default role: after the realm, in lower case
    (`default-roles-realmwithroles` for realm realmWithRoles)."""
    return f"default-roles-{realm.lower()}"


def read_live(api: RealmAdmin) -> LiveRealm:
    """The shared snapshot; each kind reads what else it needs (ResourceKind.read)."""
    # The three reads are independent, and on a big realm each takes the server seconds
    # while its caches are cold: asked at once, they cost the slowest of them.
    with ThreadPoolExecutor(max_workers=3) as pool:
        export = pool.submit(api.export, clients=False, roles=True)
        clients = pool.submit(api.clients)
        profile = pool.submit(api.user_profile)
        try:
            return LiveRealm(name=api.name, exists=True, export=export.result(),
                             client_list=clients.result(), user_profile=profile.result())
        except KeycloakRequestError as exc:
            if exc.status == 404:
                return LiveRealm(name=api.name, exists=False)
            raise
