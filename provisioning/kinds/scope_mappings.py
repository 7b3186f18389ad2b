"""Scope mappings: the roles a client's tokens may carry when its full scope is off
(Keycloak's scopeMappings for realm roles, clientScopeMappings for client roles), and
the same for client scopes. In the file, by holder:

    scopeMappings:
      clients:
        portal: {realm: [USER], clients: {idpack-sidecar: [lookup]}}
      clientScopes:
        mikrocloud-extra: {realm: [ADMIN]}

A declared holder's lists are exact (an empty entry, `portal: {}`, takes every mapping
away). Read for the declared holders, one request each. Keycloak's own mappings
(account-console's, offline_access's) are never touched unless declared.

In realm JSON, `scopeMappings` and `clientScopeMappings` are the realm's whole lists:
when the JSON gives either, each client and client scope it declares holds exactly the
mappings they list for it (none if they list none)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

from pydantic import Field
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import BUILT_IN_CLIENTS, Kind, PlanContext, ReadScope, Section
from provisioning.kinds.client_roles import client_mapping_names
from provisioning.kinds.client_scopes import BUILT_IN_CLIENT_SCOPES, live_client_scopes
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Strict, Text, json_shape

HOLDERS = {"clients": "client", "clientScopes": "clientScope"}


class ScopeRoles(Strict):
    realm: list[Text] | None = None
    clients: dict[str, list[Text]] | None = None

    def normalized(self) -> Json:
        return _normalized(self.realm or [], self.clients or {})


class ScopeMappings(Strict):
    clients: dict[str, ScopeRoles] = Field(default_factory=dict)
    clientScopes: dict[str, ScopeRoles] = Field(default_factory=dict)


# The roles a client's or client scope's tokens may carry (full scope off).
SCOPE_MAPPINGS = Section[ScopeMappings]("scopeMappings", default_factory=ScopeMappings)


@json_shape
class ScopeMappingJson(TypedDict, total=False):
    client: str | None
    clientScope: str | None
    roles: list[str] | None


def _normalized(realm: list[str], clients: dict[str, list[str]]) -> Json:
    found: Json = {}
    if realm:
        found["realm"] = sorted(realm)
    by_client = {c: sorted(r) for c, r in clients.items() if r}
    if by_client:
        found["clients"] = by_client
    return found


def read_scope_mappings(api: RealmAdmin, live: LiveRealm,
                        holders: Iterable[tuple[str, str]]) -> None:
    """The scope mappings of these holders (one read each, side by side)."""
    scopes = {s["name"]: s["id"] for s in live.export.get("clientScopes") or []}

    def read(holder: tuple[str, str]) -> tuple[tuple[str, str], Json] | None:
        kind, name = holder
        if kind == "clients":
            if name not in live.clients:
                return None
            path = f"clients/{live.clients[name]['id']}"
        else:
            if name not in scopes:
                return None
            path = f"client-scopes/{scopes[name]}"
        found = api.scope_mappings(path)
        return holder, _normalized([r["name"] for r in found.get("realmMappings") or []],
                                   client_mapping_names(found))

    with ThreadPoolExecutor(max_workers=4) as pool:
        live.scope_mappings = dict(r for r in pool.map(read, list(holders)) if r)


def declared_holders(config: ScopeMappings) -> list[tuple[str, str]]:
    return [(kind, name) for kind in HOLDERS for name in getattr(config, kind)]


def live_scope_mappings(live: LiveRealm) -> dict[tuple[str, str], Json]:
    """(holder kind, holder name) -> {"realm": [...], "clients": {owner: [...]}}."""
    if live.scope_mappings is not None:
        return live.scope_mappings
    realm: dict[tuple[str, str], list[str]] = {}
    for entry in live.export.get("scopeMappings") or []:
        for kind, key in HOLDERS.items():
            if entry.get(key):
                realm.setdefault((kind, entry[key]), []).extend(entry.get("roles") or [])
    clients: dict[tuple[str, str], dict[str, list[str]]] = {}
    for owner, entries in (live.export.get("clientScopeMappings") or {}).items():
        for entry in entries:
            for kind, key in HOLDERS.items():
                if entry.get(key):
                    clients.setdefault((kind, entry[key]), {}).setdefault(owner, []).extend(
                        entry.get("roles") or [])
    return {holder: _normalized(realm.get(holder, []), clients.get(holder, {}))
            for holder in set(realm) | set(clients)}


def _own_holders(live: LiveRealm) -> list[tuple[str, str]]:
    """The realm's own clients and client scopes (Keycloak's built-in ones left out)."""
    return ([("clients", c) for c in live.clients if c not in BUILT_IN_CLIENTS]
            + [("clientScopes", s) for s in live_client_scopes(live)
               if s not in BUILT_IN_CLIENT_SCOPES])


class ScopeMappingsKind(Kind):
    name = "scope mappings"
    sections = (SCOPE_MAPPINGS,)
    representation: ClassVar = {"scopeMappings": list[ScopeMappingJson] | None,
                      "clientScopeMappings": dict[str, list[ScopeMappingJson]] | None}
    # A declared holder's lists are exact; others are left alone.

    def read(self, api: RealmAdmin, live: LiveRealm, scope: ReadScope) -> None:
        holders = (_own_holders(live) if scope.config is None
                   else declared_holders(SCOPE_MAPPINGS.of(scope.config)))
        read_scope_mappings(api, live, holders)

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        have = live_scope_mappings(ctx.live)
        declared = SCOPE_MAPPINGS.of(ctx.config)
        for kind in HOLDERS:
            for holder, roles in getattr(declared, kind).items():
                wanted, current = roles.normalized(), have.get((kind, holder), {})
                if wanted != current:
                    changes.append(Change(self.name, f"{HOLDERS[kind]} {holder}", "update",
                                          (FieldChange("roles", current or None, wanted),),
                                          payload={"kind": kind, "holder": holder,
                                                   "wanted": wanted, "current": current}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        kind, holder = change.payload["kind"], change.payload["holder"]
        wanted, current = change.payload["wanted"], change.payload["current"]
        if kind == "clients":
            client = api.client_by_client_id(holder)
            if client is None:
                raise ValueError(f"no client {holder!r}")
            path = f"clients/{client['id']}"
        else:
            scope = api.client_scope_by_name(holder)
            if scope is None:
                raise ValueError(f"no client scope {holder!r}")
            path = f"client-scopes/{scope['id']}"
        want_realm, have_realm = set(wanted.get("realm", [])), set(current.get("realm", []))
        for names, add in ((want_realm - have_realm, True), (have_realm - want_realm, False)):
            if names:
                api.change_scope_mappings(path, [api.role(n) for n in sorted(names)], add=add)
        want_clients, have_clients = wanted.get("clients", {}), current.get("clients", {})
        for owner in sorted(set(want_clients) | set(have_clients)):
            want, have = set(want_clients.get(owner, [])), set(have_clients.get(owner, []))
            if want == have:
                continue
            owner_client = api.client_by_client_id(owner)
            if owner_client is None:
                raise ValueError(f"no client {owner!r} to take roles from")
            for names, add in ((want - have, True), (have - want, False)):
                if names:
                    api.change_scope_mappings(
                        path, [api.client_role(owner_client["id"], n) for n in sorted(names)],
                        add=add, owner_uuid=owner_client["id"])

    def export(self, live: LiveRealm) -> Json | None:
        exported: Json = {}
        found = live_scope_mappings(live)
        whole = live.keep_empty and ("scopeMappings" in live.export
                                     or "clientScopeMappings" in live.export)
        for kind, holder in _own_holders(live):
            roles = found.get((kind, holder), {})
            if roles or whole:
                exported.setdefault(kind, {})[holder] = roles
        return {"scopeMappings": exported} if exported else None
