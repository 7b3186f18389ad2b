"""The few accounts a realm needs from its first day (service or break-glass accounts),
as Keycloak's UserRepresentation: names, email, attributes, required actions, group
paths, realm and client roles. The password is a secret reference, set when the user
is created and never after (its owner changes it). Users are read one by one, by
username, since a realm may hold millions; and they are never pruned: a user goes only
when `removedUsers` names it.

A declared user's fields are exact (groups and roles as whole lists), but for its
`attributes`: Keycloak and the user write those too (locale, the geo worker's country
and timezone), so the keys the file gives are exact and the others are left."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, Required

from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, ReadScope, Section, pick
from provisioning.kinds.client_roles import (
    client_mapping_names,
    client_role_changes,
    sorted_client_roles,
)
from provisioning.live import Json, LiveRealm, default_role_name
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Bool, SecretRef, Strict, Text, json_shape

PROFILE_FIELDS = ("email", "firstName", "lastName", "enabled", "emailVerified", "attributes",
                  "requiredActions")


class User(Strict):
    email: Text | None = None
    firstName: Text | None = None
    lastName: Text | None = None
    enabled: Bool | None = None
    emailVerified: Bool | None = None
    attributes: dict[str, list[Text]] | None = None
    requiredActions: list[Text] | None = None
    groups: list[Text] | None = None
    realmRoles: list[Text] | None = None
    clientRoles: dict[str, list[Text]] | None = None
    password: SecretRef | None = None  # set on create only


USERS = Section[dict[str, User]]("users", default_factory=dict)
REMOVED_USERS = Section[list[str]]("removedUsers", default_factory=list)


@json_shape
class CredentialJson(TypedDict, total=False):
    type: str | None
    value: str | None
    temporary: bool | None


@json_shape
class UserJson(TypedDict, total=False):
    username: Required[str]
    serviceAccountClientId: str | None
    email: str | None
    firstName: str | None
    lastName: str | None
    enabled: bool | None
    emailVerified: bool | None
    attributes: dict[str, list[str]] | None
    requiredActions: list[str] | None
    groups: list[str] | None
    realmRoles: list[str] | None
    clientRoles: dict[str, list[str]] | None
    credentials: list[CredentialJson] | None


def read_users(api: RealmAdmin, live: LiveRealm, usernames: Iterable[str]) -> None:
    """Add these users, with their groups and role mappings (three reads each)."""
    def read(username: str) -> tuple[str, Json | None]:
        found = [u for u in api.users_by_username(username)
                 if u["username"] == username.lower()]
        if not found:
            return username, None
        user = found[0]
        mappings = api.role_mappings(user["id"])
        return username, {**user,
                          "groups": sorted(g["path"] for g in api.user_groups(user["id"])),
                          "realmRoles": sorted(r["name"] for r in
                                               mappings.get("realmMappings") or []),
                          "clientRoles": client_mapping_names(mappings)}

    with ThreadPoolExecutor(max_workers=4) as pool:
        for username, user in pool.map(read, list(usernames)):
            if user is not None:
                live.users[username] = user


def _wanted(user: User) -> dict[str, Any]:
    declared = user.declared()
    declared.pop("password", None)
    if "clientRoles" in declared:
        declared["clientRoles"] = sorted_client_roles(declared["clientRoles"])
    return declared


class UsersKind(Kind):
    name = "user"
    sections = (USERS, REMOVED_USERS)
    representation: ClassVar = {"users": list[UserJson] | None}
    # Never pruned; `removedUsers` names the ones to delete.

    def read(self, api: RealmAdmin, live: LiveRealm, scope: ReadScope) -> None:
        if scope.config is not None:  # users are data: export writes none
            read_users(api, live, [*USERS.of(scope.config), *REMOVED_USERS.of(scope.config)])

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for username, user in USERS.of(ctx.config).items():
            wanted = _wanted(user)
            live = ctx.live.users.get(username)
            if live is None:
                fields = field_changes(wanted, {}, whole=("attributes",))
                if user.password is not None:
                    fields.append(FieldChange("password", secret=True))
                changes.append(Change(self.name, username, "create", tuple(fields),
                                      payload={"username": username, "user": user}))
                continue
            # The declared attributes only (others may be the user's own, or Keycloak's);
            # groups, roles and required actions as sets; the realm's default role,
            # which Keycloak gives every user, only when the file names it.
            have = {**live, "attributes": {k: (live.get("attributes") or {}).get(k)
                                           for k in (user.attributes or {})},
                    "realmRoles": _direct_roles(live, user, ctx.live.default_role)}
            fields = field_changes(wanted, have, whole=("clientRoles",))
            if fields:
                changes.append(Change(self.name, username, "update", tuple(fields),
                                      payload={"username": username, "user": user,
                                               "live": live}))
        for username in REMOVED_USERS.of(ctx.config):
            live = ctx.live.users.get(username)
            if live is not None:
                changes.append(Change(self.name, username, "delete",
                                      (FieldChange("username", username, None),),
                                      payload={"id": live["id"]}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "delete":
            api.delete_user(change.payload["id"])
            return
        user: User = change.payload["user"]
        wanted = _wanted(user)
        profile = {k: v for k, v in wanted.items() if k in PROFILE_FIELDS}
        if change.action == "create":
            representation: Json = {"username": change.name, **profile}
            if user.password is not None:
                assert user.password.value is not None
                representation["credentials"] = [{"type": "password", "temporary": False,
                                                  "value": user.password.value}]
            user_id = api.create_user(representation)
            live: Json = {"groups": [], "realmRoles": [], "clientRoles": {}}
        else:
            live = change.payload["live"]
            user_id = live["id"]
            if profile:
                attributes = {**(live.get("attributes") or {}), **(profile.get("attributes")
                                                                   or {})}
                api.update_user(user_id, {**profile, "attributes": attributes})
        _set_groups(api, user_id, user.groups, live.get("groups") or [])
        _set_roles(api, user_id, user, live)

    def export(self, live: LiveRealm) -> Json | None:
        """The users of a realm JSON (`idpack realm export` reads none: users are data,
        not configuration). A user's roles leave out the realm's default role, which
        Keycloak gives every user."""
        users: dict[str, Json] = {}
        for username, user in live.users.items():
            entry = {k: v for k, v in pick(user, PROFILE_FIELDS).items() if live.written(v)}
            for field in ("groups", "realmRoles", "clientRoles"):
                if live.written(user.get(field)):
                    entry[field] = user[field]
            if "realmRoles" in entry:
                entry["realmRoles"] = [r for r in entry["realmRoles"] if r != live.default_role]
            users[username] = entry
        return {"users": users} if users else None


def _direct_roles(live: Json, user: User, default: str) -> list[str]:
    return [r for r in live.get("realmRoles") or []
            if r != default or default in (user.realmRoles or [])]


def _set_groups(api: RealmAdmin, user_id: str, wanted: list[str] | None,
                held: list[str]) -> None:
    if wanted is None:
        return
    for path in sorted(set(wanted) - set(held)):
        api.set_user_group(user_id, str(api.group_by_path(path)["id"]), True)
    for path in sorted(set(held) - set(wanted)):
        api.set_user_group(user_id, str(api.group_by_path(path)["id"]), False)


def _set_roles(api: RealmAdmin, user_id: str, user: User, live: Json) -> None:
    if user.realmRoles is not None:
        held = set(_direct_roles(live, user, default_role_name(api.name)))
        add = [api.role(n) for n in sorted(set(user.realmRoles) - held)]
        remove = [api.role(n) for n in sorted(held - set(user.realmRoles))]
        if add:
            api.add_realm_role_mappings(user_id, add)
        if remove:
            api.remove_realm_role_mappings(user_id, remove)
    if user.clientRoles is not None:
        for uuid, add, remove in client_role_changes(api, user.clientRoles,
                                                     live.get("clientRoles") or {}):
            if add:
                api.add_client_role_mappings(user_id, uuid, add)
            if remove:
                api.remove_client_role_mappings(user_id, uuid, remove)
