"""Realm roles (UCloud's USER, ADMIN, SERVICE, ...). Built-in roles are never pruned."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext
from provisioning.plan import Change, FieldChange
from provisioning.schema import BUILT_IN_REALM_ROLES


def built_in_roles(realm: str) -> set[str]:
    return BUILT_IN_REALM_ROLES | {f"default-roles-{realm}"}


class RolesKind:
    name = "role"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for name, role in ctx.config.roles.items():
            declared = role.declared()
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
        if "roles" in ctx.prune:
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


def _editable(live: dict[str, object]) -> dict[str, object]:
    return {k: live[k] for k in ("name", "description", "attributes") if k in live}
