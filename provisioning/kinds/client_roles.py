"""Client roles (`clientRoles: {clientId: {role: ...}}`, as RealmRepresentation's
roles.client holds them) and the composites of every declared role, realm or client
(RoleRepresentation's `composites: {realm: [...], client: {clientId: [...]}}`).
Composites are applied after all roles exist, so a role may contain one declared later.
A declared role's description and `attributes` map are exact, and so are declared
composites. The roles of Keycloak's built-in clients are never pruned."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import BUILT_IN_CLIENTS, Kind, PlanContext, ReadScope, Section, pick
from provisioning.kinds.roles import ROLES, Role, exported_role
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange

# clientId -> role name -> role, as RealmRepresentation's roles.client.
CLIENT_ROLES = Section[dict[str, dict[str, Role]]]("clientRoles", default_factory=dict)


def live_client_roles(live: LiveRealm) -> dict[str, dict[str, Json]]:
    """clientId -> role name -> role, for the clients whose roles were read."""
    return {client: {r["name"]: r for r in roles}
            for client, roles in live.client_roles.items()}


def read_client_roles(api: RealmAdmin, live: LiveRealm, client_ids: Iterable[str]) -> None:
    """Add the roles of these clients (one read each, side by side), with the
    composites of their composite roles (one read each more), in the partial export's
    shape: {"realm": [names], "client": {clientId: [names]}}."""
    present = [(cid, live.clients[cid]["id"]) for cid in client_ids if cid in live.clients]
    client_ids_by_uuid = {c["id"]: cid for cid, c in live.clients.items()}

    def with_composites(role: Json) -> Json:
        if not role.get("composite"):
            return role
        composites: Json = {}
        for member in api.role_composites(role["id"]):
            if member.get("clientRole"):
                owner = client_ids_by_uuid.get(member.get("containerId"), "")
                composites.setdefault("client", {}).setdefault(owner, []).append(
                    member["name"])
            else:
                composites.setdefault("realm", []).append(member["name"])
        return {**role, "composites": composites}

    def roles_of(item: tuple[str, str]) -> tuple[str, list[Json]]:
        return item[0], [with_composites(r) for r in api.client_roles(item[1])]

    with ThreadPoolExecutor(max_workers=4) as pool:
        live.client_roles.update(pool.map(roles_of, present))


def _role_clients(scope: ReadScope, live: LiveRealm) -> set[str]:
    """The clients whose roles the file declares, or names as another's composite;
    every client of the realm's own for export."""
    if scope.config is None:
        return {cid for cid in live.clients if cid not in BUILT_IN_CLIENTS}
    declared = CLIENT_ROLES.of(scope.config)
    named = set(declared)
    for role in [*ROLES.of(scope.config).values(),
                 *(r for roles in declared.values() for r in roles.values())]:
        if role.composites is not None:
            named |= set(role.composites.client or {})
    return named


class ClientRolesKind(Kind):
    name = "client role"
    sections = (CLIENT_ROLES,)
    prune_key = "clientRoles"

    def read(self, api: RealmAdmin, live: LiveRealm, scope: ReadScope) -> None:
        read_client_roles(api, live, sorted(_role_clients(scope, live)))

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        have = live_client_roles(ctx.live)
        declared_roles = CLIENT_ROLES.of(ctx.config)
        for client_id, roles in declared_roles.items():
            for name, role in roles.items():
                declared = role.declared_without_composites()
                live = have.get(client_id, {}).get(name)
                title = f"{client_id}/{name}"
                if live is None:
                    changes.append(Change(self.name, title, "create",
                                          tuple(field_changes(declared, {})),
                                          payload={"client": client_id,
                                                   "role": {"name": name, **declared}}))
                    continue
                fields = field_changes(declared, {**live, "attributes": live.get("attributes")
                                                  or {}}, exact=("attributes",))
                if fields:
                    changes.append(Change(self.name, title, "update", tuple(fields), payload={
                        "client": client_id, "role": {
                            **pick(live, ["name", "description", "attributes"]),
                            **declared}}))
        if self.prune_key in ctx.prune:
            for client_id, live_roles in have.items():
                if client_id in BUILT_IN_CLIENTS or client_id not in declared_roles:
                    continue  # only the roles of clients whose roles the file declares
                keep = declared_roles[client_id]
                changes += [Change(self.name, f"{client_id}/{name}", "delete",
                                   (FieldChange("name", name, None),),
                                   payload={"client": client_id, "role": {"name": name}})
                            for name in live_roles if name not in keep]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        uuid = client_uuid(api, change.payload["client"])
        role = change.payload["role"]
        if change.action == "create":
            api.create_client_role(uuid, role)
        elif change.action == "update":
            api.update_client_role(uuid, role["name"], role)
        else:
            api.delete_client_role(uuid, role["name"])

    def export(self, live: LiveRealm) -> Json | None:
        exported: dict[str, Json] = {}
        for client_id, roles in live_client_roles(live).items():
            if client_id in BUILT_IN_CLIENTS:
                continue
            entries = {name: exported_role(role, live.keep_empty)
                       for name, role in roles.items()}
            if entries or live.keep_empty:
                exported[client_id] = entries
        return {"clientRoles": exported} if exported else None


def client_uuid(api: RealmAdmin, client_id: str) -> str:
    client = api.client_by_client_id(client_id)
    if client is None:
        raise ValueError(f"no client {client_id!r} in realm {api.name}")
    return str(client["id"])


def sorted_client_roles(roles: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """clientId -> role names with sorted lists and no empty ones: two maps that grant
    the same roles compare equal (groups, users)."""
    return {client: sorted(names) for client, names in (roles or {}).items() if names}


def client_mapping_names(mappings: Json) -> dict[str, list[str]]:
    """The client roles of a role-mappings answer (a user's, a group's, a scope's), by
    clientId, as sorted names."""
    return sorted_client_roles({m["client"]: [r["name"] for r in m.get("mappings") or []]
                                for m in (mappings.get("clientMappings") or {}).values()})


def client_role_changes(api: RealmAdmin, wanted: dict[str, list[str]],
                        held: dict[str, list[str]]) -> list[tuple[str, list[Json], list[Json]]]:
    """(client uuid, roles to grant, roles to take back) for each client whose roles, by
    clientId, differ between `wanted` and `held`: what a group's or a user's mappings
    need."""
    changes = []
    for client_id in sorted(set(wanted) | set(held)):
        want, have = set(wanted.get(client_id, [])), set(held.get(client_id, []))
        if want != have:
            uuid = client_uuid(api, client_id)
            changes.append((uuid, [api.client_role(uuid, n) for n in sorted(want - have)],
                            [api.client_role(uuid, n) for n in sorted(have - want)]))
    return changes


def _composites(role: Json | None) -> Json:
    """A role's composites with sorted lists, empty parts left out."""
    found = (role or {}).get("composites") or {}
    result: Json = {}
    if found.get("realm"):
        result["realm"] = sorted(found["realm"])
    client = {c: sorted(names) for c, names in (found.get("client") or {}).items() if names}
    if client:
        result["client"] = client
    return result


class RoleCompositesKind(Kind):
    """The composites of each declared role whose `composites` the file sets: exact."""

    name = "role composites"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        client_roles = live_client_roles(ctx.live)
        declared: list[tuple[str, str | None, str, Json]] = [
            (name, None, name, role.composites.normalized())
            for name, role in ROLES.of(ctx.config).items() if role.composites is not None]
        declared += [(f"{client_id}/{name}", client_id, name, role.composites.normalized())
                     for client_id, roles in CLIENT_ROLES.of(ctx.config).items()
                     for name, role in roles.items() if role.composites is not None]
        for title, client_id, name, wanted in declared:
            live = (ctx.live.roles.get(name) if client_id is None
                    else client_roles.get(client_id, {}).get(name))
            have = _composites(live)
            if have != wanted:
                changes.append(Change(self.name, title, "update" if live else "create",
                                      (FieldChange("composites", have or None, wanted),),
                                      payload={"client": client_id, "role": name,
                                               "wanted": wanted}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        client_id, name, wanted = (change.payload["client"], change.payload["role"],
                                   change.payload["wanted"])
        uuids: dict[str, str] = {}

        def uuid_of(cid: str) -> str:
            if cid not in uuids:
                uuids[cid] = client_uuid(api, cid)
            return uuids[cid]

        role = api.role(name) if client_id is None else api.client_role(uuid_of(client_id), name)
        current = api.role_composites(str(role["id"]))
        by_container = {uuid: cid for cid, uuid in uuids.items()}
        for cid in wanted.get("client", {}):
            by_container[uuid_of(cid)] = cid

        def key(r: Json) -> tuple[str | None, str]:
            if not r.get("clientRole"):
                return None, str(r["name"])
            container = str(r.get("containerId"))
            return by_container.get(container, container), str(r["name"])

        want_keys = {(None, n) for n in wanted.get("realm", [])} | {
            (cid, n) for cid, names in wanted.get("client", {}).items() for n in names}
        remove = [r for r in current if key(r) not in want_keys]
        have_keys = {key(r) for r in current}
        add = [api.role(n) if cid is None else api.client_role(uuid_of(cid), n)
               for cid, n in sorted(want_keys - have_keys, key=lambda k: (k[0] or "", k[1]))]
        if add:
            api.add_composites(str(role["id"]), add)
        if remove:
            api.remove_composites(str(role["id"]), remove)

