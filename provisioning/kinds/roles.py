"""Realm roles (UCloud's USER, ADMIN, SERVICE, ...). Built-in roles are never pruned."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext, pick
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Strict, Text

# Keycloak makes these with every realm (besides default-roles-<realm>).
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


def exported_role(role: Json) -> Json:
    """A live role as the file writes it: description, attributes, composites."""
    entry = pick(role, ["description"])
    if role.get("attributes"):
        entry["attributes"] = role["attributes"]
    composites = role.get("composites") or {}
    written = {k: v for k, v in (("realm", sorted(composites.get("realm") or [])),
                                 ("client", {c: sorted(n) for c, n in
                                             (composites.get("client") or {}).items() if n}))
               if v}
    if written:
        entry["composites"] = written
    return entry


def built_in_roles(realm: str) -> frozenset[str]:
    return BUILT_IN_REALM_ROLES | {f"default-roles-{realm}"}


class RolesKind:
    name = "role"
    prune_key = "roles"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for name, role in ctx.config.roles.items():
            declared = role.declared_without_composites()
            live = ctx.live.roles.get(name)
            if live is None:
                changes.append(Change(self.name, name, "create",
                                      tuple(field_changes(declared, {})),
                                      payload={"name": name, **declared}))
                continue
            fields = field_changes(declared, live)
            if fields:
                changes.append(Change(self.name, name, "update", tuple(fields),
                                      payload={**_editable(live), **declared}))
        if self.prune_key in ctx.prune:
            keep = set(ctx.config.roles) | built_in_roles(ctx.config.realm)
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
        skip = built_in_roles(live.name)
        roles = {}
        for name, role in live.roles.items():
            if name in skip:
                continue
            roles[name] = exported_role(role)
        return {"roles": roles}


def _editable(live: dict[str, object]) -> dict[str, object]:
    return {k: live[k] for k in ("name", "description", "attributes") if k in live}
