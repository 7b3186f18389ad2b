"""Read-back rules for who may do what: realm and client roles with their composites
and the default roles, groups, clients and client scopes, scope mappings, users and
service accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from tests.support.realm_match.rules import (
    BUILT_IN_CLIENTS,
    BUILT_IN_REALM_ROLES,
    BUILT_IN_SCOPES,
    Check,
    Json,
    by,
)


def role_fields(where: str, role: Json, have: Json | None, check: Check) -> None:
    if have is None:
        check(where, "present", None)
        return
    for key in ("description", "attributes"):
        if key in role:
            check(f"{where}.{key}", role[key], have.get(key) or ({} if key == "attributes"
                                                                 else None))
    if "composites" in role:
        declared = role["composites"] or {}
        held = have.get("composites") or {}
        check(f"{where}.composites.realm", declared.get("realm") or [], held.get("realm"))
        check(f"{where}.composites.client",
              {c: sorted(n) for c, n in (declared.get("client") or {}).items() if n},
              {c: sorted(n) for c, n in (held.get("client") or {}).items() if n})


def roles(document: Json, live: Json, check: Check, pruned: bool) -> None:
    roles = document.get("roles") or {}
    held = by((live.get("roles") or {}).get("realm"), "name")
    default_role = live["defaultRole"]["name"]
    for role in roles.get("realm") or []:
        if role["name"] == default_role or role["name"] == (document.get("defaultRole")
                                                            or {}).get("name"):
            # The default roles: its realm composites, exactly.
            declared = (role.get("composites") or {}).get("realm") or []
            check("default roles", declared,
                  ((held[default_role].get("composites") or {}).get("realm")))
            continue
        role_fields(f"role {role['name']}", role, held.get(role["name"]), check)
    if pruned and "roles" in document:
        want = {r["name"] for r in roles.get("realm") or []} | BUILT_IN_REALM_ROLES | {
            default_role}
        check("realm roles (pruned)", sorted(want), sorted(held))
    client_roles = (live.get("roles") or {}).get("client") or {}
    for client_id, declared in (roles.get("client") or {}).items():
        have = by(client_roles.get(client_id), "name")
        for role in declared:
            role_fields(f"client role {client_id}/{role['name']}", role,
                         have.get(role["name"]), check)
        if pruned:
            check(f"roles of client {client_id} (pruned)",
                  sorted(r["name"] for r in declared), sorted(have))


def walk_groups(groups: Any, parent: str = "") -> Iterator[tuple[str, Json]]:
    for group in groups or []:
        path = f"{parent}/{group['name']}"
        yield path, group
        yield from walk_groups(group.get("subGroups"), path)


def groups(document: Json, live: Json, check: Check, pruned: bool) -> None:
    held = dict(walk_groups(live.get("groups")))
    declared = dict(walk_groups(document.get("groups")))
    for path, group in declared.items():
        have = held.get(path)
        if have is None:
            check(f"group {path}", "present", None)
            continue
        for key in ("attributes", "realmRoles", "clientRoles"):
            if key in group:
                want = group[key]
                if key == "clientRoles":
                    want = {c: sorted(n) for c, n in want.items() if n}
                    check(f"group {path}.{key}", want, {
                        c: sorted(n) for c, n in (have.get(key) or {}).items() if n})
                else:
                    check(f"group {path}.{key}", want, have.get(key) or (
                        {} if key == "attributes" else []))
    if pruned and "groups" in document:
        check("groups (pruned)", sorted(declared), sorted(held))
    if "defaultGroups" in document:
        check("defaultGroups", document["defaultGroups"], live.get("defaultGroups"))


def clients(document: Json, live: Json, check: Check, pruned: bool) -> None:
    held = by(live.get("clients"), "clientId")
    flow_aliases = {f.get("id"): f["alias"] for f in live.get("authenticationFlows") or []}
    for client in document.get("clients") or []:
        client_id = client["clientId"]
        have = held.get(client_id)
        if have is None:
            check(f"client {client_id}", "present", None)
            continue
        for key, want in client.items():
            where = f"client {client_id}.{key}"
            if key in ("clientId", "id", "secret"):
                continue
            if key == "attributes":
                for name, value in want.items():
                    check(f"{where}.{name}", value, (have.get("attributes") or {}).get(name))
            elif key == "protocolMappers":
                mappers = by(have.get("protocolMappers"), "name")
                check(f"{where} (names)", sorted(m["name"] for m in want), sorted(mappers))
                for mapper in want:
                    got = mappers.get(mapper["name"]) or {}
                    check(f"{where} {mapper['name']}.protocolMapper", mapper["protocolMapper"],
                          got.get("protocolMapper"))
                    check(f"{where} {mapper['name']}.config",
                          {k: str(v).lower() if isinstance(v, bool) else str(v)
                           for k, v in (mapper.get("config") or {}).items()},
                          got.get("config") or {})
            elif key == "authenticationFlowBindingOverrides":
                check(where, want, {k: flow_aliases.get(v, v)
                                    for k, v in (have.get(key) or {}).items()})
            else:
                check(where, want, have.get(key))
    if pruned and "clients" in document:
        declared = {c["clientId"] for c in document.get("clients") or []}
        check("clients (pruned)", sorted(declared - BUILT_IN_CLIENTS),
              sorted(set(held) - BUILT_IN_CLIENTS))
    accounts = {u.get("serviceAccountClientId"): u for u in live.get("users") or []}
    default_role = live["defaultRole"]["name"]
    for user in document.get("users") or []:
        client_id = user.get("serviceAccountClientId")
        if not client_id:
            continue
        have = accounts.get(client_id) or {}
        check(f"service account {client_id}.realmRoles",
              [r for r in user.get("realmRoles") or [] if r != default_role],
              [r for r in have.get("realmRoles") or [] if r != default_role])
        check(f"service account {client_id}.clientRoles",
              {c: sorted(r) for c, r in (user.get("clientRoles") or {}).items() if r},
              {c: sorted(r) for c, r in (have.get("clientRoles") or {}).items() if r})
    scopes = by(live.get("clientScopes"), "name")
    for scope in document.get("clientScopes") or []:
        have = scopes.get(scope["name"])
        if have is None:
            check(f"client scope {scope['name']}", "present", None)
            continue
        for key in ("description", "protocol"):
            if key in scope:
                check(f"client scope {scope['name']}.{key}", scope[key], have.get(key))
        for name, value in (scope.get("attributes") or {}).items():
            check(f"client scope {scope['name']}.attributes.{name}", value,
                  (have.get("attributes") or {}).get(name))
    if pruned and "clientScopes" in document:
        declared = {s["name"] for s in document["clientScopes"]}
        check("client scopes (pruned)", sorted(declared - BUILT_IN_SCOPES),
              sorted(set(scopes) - BUILT_IN_SCOPES))
    for key in ("defaultDefaultClientScopes", "defaultOptionalClientScopes"):
        if key in document:
            check(key, document[key], live.get(key))


def mappings(realm: Json) -> dict[tuple[str, str], Json]:
    """(client|clientScope, holder) -> {"realm": [...], "clients": {owner: [...]}}."""
    found: dict[tuple[str, str], Json] = {}
    for entry in realm.get("scopeMappings") or []:
        for key in ("client", "clientScope"):
            if entry.get(key):
                found.setdefault((key, entry[key]), {}).setdefault("realm", []).extend(
                    entry.get("roles") or [])
    for owner, entries in (realm.get("clientScopeMappings") or {}).items():
        for entry in entries:
            for key in ("client", "clientScope"):
                if entry.get(key):
                    found.setdefault((key, entry[key]), {}).setdefault("clients", {}).setdefault(
                        owner, []).extend(entry.get("roles") or [])
    return found


def scope_mappings(document: Json, live: Json, check: Check) -> None:
    if "scopeMappings" not in document and "clientScopeMappings" not in document:
        return
    declared, held = mappings(document), mappings(live)
    holders = [("client", c["clientId"]) for c in document.get("clients") or []
               if c["clientId"] not in BUILT_IN_CLIENTS]
    holders += [("clientScope", s["name"]) for s in document.get("clientScopes") or []
                if s["name"] not in BUILT_IN_SCOPES]
    for holder in holders:
        want, have = declared.get(holder, {}), held.get(holder, {})
        check(f"scope mappings of {holder[0]} {holder[1]}.realm", want.get("realm") or [],
              have.get("realm") or [])
        check(f"scope mappings of {holder[0]} {holder[1]}.clients",
              {o: sorted(r) for o, r in (want.get("clients") or {}).items() if r},
              {o: sorted(r) for o, r in (have.get("clients") or {}).items() if r})


def users(api: RealmAdmin, document: Json, live: Json, check: Check) -> None:
    default_role = live["defaultRole"]["name"]
    for user in document.get("users") or []:
        if user.get("serviceAccountClientId"):
            continue
        username = user["username"]
        found = [u for u in api.users_by_username(username) if u["username"] == username]
        if not found:
            check(f"user {username}", "present", None)
            continue
        have = found[0]
        for key in ("email", "firstName", "lastName", "enabled", "emailVerified",
                    "requiredActions"):
            if key in user:
                check(f"user {username}.{key}", user[key], have.get(key))
        for name, value in (user.get("attributes") or {}).items():
            check(f"user {username}.attributes.{name}", value,
                  (have.get("attributes") or {}).get(name))
        if "groups" in user:
            check(f"user {username}.groups", user["groups"],
                  [g["path"] for g in api.user_groups(have["id"])])
        mappings = api.role_mappings(have["id"])
        if "realmRoles" in user:
            check(f"user {username}.realmRoles",
                  [r for r in user["realmRoles"] if r != default_role],
                  [r["name"] for r in mappings.get("realmMappings") or []
                   if r["name"] != default_role])
        if "clientRoles" in user:
            check(f"user {username}.clientRoles",
                  {c: sorted(r) for c, r in user["clientRoles"].items() if r},
                  {m["client"]: sorted(r["name"] for r in m.get("mappings") or [])
                   for m in (mappings.get("clientMappings") or {}).values()})
