"""Groups, by path: `/staff` and its sub-group `/staff/admins` are two entries, the
parent declared too. Each has attributes and the realm and client roles its members get
(Keycloak's GroupRepresentation: attributes, realmRoles, clientRoles), each exact when
declared. The default groups, which every new user joins, are a list of paths, exact.
Read from the partial export the plan reads anyway: no request per group.

Realm JSON holds the tree (`subGroups`), with paths or without: a group's path is its
parent's and its name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Required

from pydantic import AfterValidator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, Section, unique
from provisioning.kinds.client_roles import (
    client_mapping_names,
    client_role_changes,
    sorted_client_roles,
)
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Strict, Text, json_shape


class Group(Strict):
    attributes: dict[str, list[Text]] | None = None
    realmRoles: list[Text] | None = None
    clientRoles: dict[str, list[Text]] | None = None


def check_group_paths(groups: dict[str, Group]) -> dict[str, Group]:
    """Paths are absolute, and every sub-group's parent is declared too."""
    for path in groups:
        segments = path.split("/")
        if not path.startswith("/") or not all(segments[1:]):
            raise ValueError(f"group {path!r}: a path like /staff or /staff/admins")
        parent = parent_path(path)
        if parent and parent not in groups:
            raise ValueError(f"group {path}: its parent {parent} is not declared")
    return groups


def parent_path(path: str) -> str | None:
    parent = path.rsplit("/", 1)[0]
    return parent or None


GROUPS = Section[Annotated[dict[str, Group], AfterValidator(check_group_paths)]](
    "groups", default_factory=dict)
DEFAULT_GROUPS = Section[list[str] | None]("defaultGroups", default=None)


def _plain_name(name: str) -> str:
    if "/" in name:
        raise ValueError(f"{name!r}: a group name without '/' (it separates a path)")
    return name


@json_shape
class GroupJson(TypedDict, total=False):
    name: Required[Annotated[str, AfterValidator(_plain_name)]]
    path: str | None
    attributes: dict[str, list[str]] | None
    realmRoles: list[str] | None
    clientRoles: dict[str, list[str]] | None
    subGroups: Annotated[list[GroupJson], AfterValidator(unique("name"))] | None


def _walk(groups: list[Json], parent: str = "") -> Iterator[tuple[str, Json]]:
    for group in groups:
        path = str(group.get("path") or f"{parent}/{group['name']}")
        yield path, group
        yield from _walk(group.get("subGroups") or [], path)


def live_groups(live: LiveRealm) -> dict[str, Json]:
    """Every group of the realm by path, sub-groups too."""
    return dict(_walk(live.export.get("groups") or []))


def _comparable(group: Json) -> dict[str, Any]:
    return {"attributes": group.get("attributes") or {},
            "realmRoles": group.get("realmRoles") or [],
            "clientRoles": sorted_client_roles(group.get("clientRoles"))}


class GroupsKind(Kind):
    name = "group"
    sections = (GROUPS,)
    representation: ClassVar = {
        "groups": Annotated[list[GroupJson], AfterValidator(unique("name"))] | None}
    prune_key = "groups"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        have = live_groups(ctx.live)
        groups = GROUPS.of(ctx.config)
        # Parents before their sub-groups.
        for path in sorted(groups, key=lambda p: p.count("/")):
            declared = groups[path].declared()
            live = have.get(path)
            if live is None:
                changes.append(Change(self.name, path, "create",
                                      tuple(field_changes(declared, {}, whole=("attributes",))),
                                      payload={"path": path, **declared}))
                continue
            # Attributes are the group's whole map; role lists are compared as sets.
            wanted = {**declared, **({"clientRoles": sorted_client_roles(
                declared["clientRoles"])} if "clientRoles" in declared else {})}
            fields = field_changes(wanted, _comparable(live),
                                   whole=("clientRoles",), exact=("attributes",))
            if fields:
                changes.append(Change(self.name, path, "update", tuple(fields),
                                      payload={"path": path, "id": live["id"], **declared}))
        if self.prune_key in ctx.prune:
            undeclared = [p for p in have if p not in groups]
            # Deleting a group deletes its sub-groups: only the top-most undeclared.
            changes += [Change(self.name, path, "delete", (FieldChange("path", path, None),),
                               payload={"id": have[path]["id"]})
                        for path in sorted(undeclared)
                        if parent_path(path) is None or parent_path(path) not in undeclared]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        payload = change.payload
        if change.action == "delete":
            api.delete_group(payload["id"])
            return
        name = change.name.rsplit("/", 1)[1]
        representation: Json = {"name": name}
        if payload.get("attributes") is not None:
            representation["attributes"] = payload["attributes"]
        if change.action == "create":
            parent = parent_path(change.name)
            parent_id = str(api.group_by_path(parent)["id"]) if parent else None
            group_id = api.create_group(representation, parent_id)
        else:
            group_id = payload["id"]
            api.update_group(group_id, {"id": group_id, **representation})
        _set_roles(api, group_id, payload.get("realmRoles"), payload.get("clientRoles"))

    def export(self, live: LiveRealm) -> Json | None:
        groups: dict[str, Json] = {}
        for path, group in live_groups(live).items():
            entry = {k: v for k, v in _comparable(group).items() if live.written(group.get(k))}
            groups[path] = {k: (sorted(v) if isinstance(v, list) else v)
                            for k, v in entry.items()}
        return {"groups": groups} if groups else None



def _set_roles(api: RealmAdmin, group_id: str, realm_roles: list[str] | None,
               client_roles: dict[str, list[str]] | None) -> None:
    """Make the group's role mappings exactly the declared ones (of what is declared)."""
    if realm_roles is None and client_roles is None:
        return
    mappings = api.group_role_mappings(group_id)
    if realm_roles is not None:
        held = {r["name"] for r in mappings.get("realmMappings") or []}
        add = [api.role(n) for n in sorted(set(realm_roles) - held)]
        remove = [r for r in mappings.get("realmMappings") or []
                  if r["name"] not in realm_roles]
        if add:
            api.change_group_roles(group_id, add, add=True)
        if remove:
            api.change_group_roles(group_id, remove, add=False)
    if client_roles is not None:
        by_client = client_mapping_names(mappings)
        for uuid, add, remove in client_role_changes(api, client_roles, by_client):
            if add:
                api.change_group_roles(group_id, add, add=True, client_uuid=uuid)
            if remove:
                api.change_group_roles(group_id, remove, add=False, client_uuid=uuid)


class DefaultGroupsKind(Kind):
    """The groups every new user joins: the declared list is exact."""

    name = "default groups"
    sections = (DEFAULT_GROUPS,)
    representation: ClassVar = {"defaultGroups": list[str] | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        wanted = DEFAULT_GROUPS.of(ctx.config)
        if wanted is None:
            return []
        have = sorted(ctx.live.export.get("defaultGroups") or [])
        if ctx.live.exists and set(have) == set(wanted):
            return []
        return [Change(self.name, ctx.config.realm, ctx.action,
                       (FieldChange("paths", have if ctx.live.exists else None,
                                    sorted(wanted)),),
                       payload={"wanted": sorted(wanted)})]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        wanted = set(change.payload["wanted"])
        held = {g["path"]: str(g["id"]) for g in api.default_groups()}
        for path in sorted(wanted - set(held)):
            api.set_default_group(str(api.group_by_path(path)["id"]), True)
        for path in sorted(set(held) - wanted):
            api.set_default_group(held[path], False)

    def export(self, live: LiveRealm) -> Json | None:
        paths = live.export.get("defaultGroups")
        return {"defaultGroups": sorted(paths or [])} if live.written(paths) else None

