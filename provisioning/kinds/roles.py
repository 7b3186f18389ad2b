"""Realm roles (UCloud's USER, ADMIN, SERVICE, ...). A declared role's description is
exact, and so is its `attributes` map (a key the file drops goes); built-in roles are
never pruned. The roles' shape in realm JSON is declared here for every kind that
reads it (client roles, default roles)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Required

from pydantic import AfterValidator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, Section, pick, unique
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Strict, Text, json_shape

# Keycloak makes these with every realm (besides its default role, LiveRealm.default_role).
BUILT_IN_REALM_ROLES = frozenset({"offline_access", "uma_authorization"})


class RoleComposites(Strict):
    """The roles a composite role contains (RoleRepresentation.composites)."""

    realm: list[Text] | None = None
    client: dict[str, list[Text]] | None = None

    def normalized(self) -> Json:
        result: Json = {}
        if self.realm:
            result["realm"] = sorted(self.realm)
        client = {c: sorted(names) for c, names in (self.client or {}).items() if names}
        if client:
            result["client"] = client
        return result


class Role(Strict):
    description: Text | None = None
    attributes: dict[str, list[str]] | None = None
    # Applied by RoleCompositesKind, once every role exists.
    composites: RoleComposites | None = None

    def declared_without_composites(self) -> dict[str, object]:
        return {k: v for k, v in self.declared().items() if k != "composites"}


@json_shape
class CompositesJson(TypedDict, total=False):
    realm: list[str] | None
    client: dict[str, list[str]] | None


@json_shape
class RoleJson(TypedDict, total=False):
    name: Required[str]
    description: str | None
    attributes: dict[str, list[str]] | None
    composites: CompositesJson | None


RoleList = Annotated[list[RoleJson], AfterValidator(unique("name"))]


@json_shape
class RolesJson(TypedDict, total=False):
    realm: RoleList | None
    client: dict[str, RoleList] | None


ROLES = Section[dict[str, Role]]("roles", default_factory=dict)


def exported_role(role: Json, keep_empty: bool = False) -> Json:
    """A live role as the file writes it: description, attributes, composites."""
    entry = pick(role, ["description"])
    if role.get("attributes") or (keep_empty and role.get("attributes") is not None):
        entry["attributes"] = role["attributes"]
    composites = role.get("composites") or {}
    written = {k: v for k, v in (("realm", sorted(composites.get("realm") or [])),
                                 ("client", {c: sorted(n) for c, n in
                                             (composites.get("client") or {}).items() if n}))
               if v}
    if written or (keep_empty and role.get("composites") is not None):
        entry["composites"] = written
    return entry


def built_in_roles(live: LiveRealm) -> frozenset[str]:
    return BUILT_IN_REALM_ROLES | {live.default_role}


class RolesKind(Kind):
    name = "role"
    sections = (ROLES,)
    representation: ClassVar = {"roles": RolesJson | None}
    prune_key = "roles"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        declared_roles = ROLES.of(ctx.config)
        for name, role in declared_roles.items():
            declared = role.declared_without_composites()
            live = ctx.live.roles.get(name)
            if live is None:
                changes.append(Change(self.name, name, "create",
                                      tuple(field_changes(declared, {})),
                                      payload={"name": name, **declared}))
                continue
            fields = field_changes(declared, {**live, "attributes": live.get("attributes")
                                              or {}}, exact=("attributes",))
            if fields:
                changes.append(Change(self.name, name, "update", tuple(fields),
                                      payload={**_editable(live), **declared}))
        if self.prune_key in ctx.prune:
            keep = set(declared_roles) | built_in_roles(ctx.live)
            changes += [Change(self.name, name, "delete", (FieldChange("name", name, None),))
                        for name in ctx.live.roles if name not in keep]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "create":
            api.create_role(change.payload)
        elif change.action == "update":
            api.update_role(change.name, change.payload)
        else:
            api.delete_role(change.name)

    def export(self, live: LiveRealm) -> Json:
        skip = built_in_roles(live)
        return {"roles": {name: exported_role(role, live.keep_empty)
                          for name, role in live.roles.items() if name not in skip}}


def _editable(live: dict[str, Any]) -> dict[str, Any]:
    return {k: live[k] for k in ("name", "description", "attributes") if k in live}
