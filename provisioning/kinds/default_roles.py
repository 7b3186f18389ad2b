"""The realm roles every new user gets: the realm composites of default-roles-<realm>.
The declared list is exact for realm roles; the client roles Keycloak puts there
(account's manage-account, view-profile) are left alone."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import PlanContext
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange


def default_realm_roles(live: LiveRealm) -> frozenset[str]:
    """The realm roles every new user gets (composites of default-roles-<realm>)."""
    default = live.roles.get(f"default-roles-{live.name}") or {}
    return frozenset((default.get("composites") or {}).get("realm", []))


class DefaultRolesKind:
    name = "default roles"
    prune_key = None  # the declared list is exact already

    def plan(self, ctx: PlanContext) -> list[Change]:
        wanted = ctx.config.defaultRoles
        if wanted is None:
            return []
        have = set(default_realm_roles(ctx.live))
        if ctx.live.exists and have == set(wanted):
            return []
        field = FieldChange("realm roles", sorted(have) if ctx.live.exists else None,
                            sorted(wanted))
        return [Change(self.name, ctx.config.realm, ctx.action, (field,),
                       payload={"add": sorted(set(wanted) - have),
                                "remove": sorted(have - set(wanted))})]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        default_role = api.role(f"default-roles-{api.name}")
        current = {r["name"] for r in api.role_composites(default_role["id"])
                   if not r.get("clientRole")}
        add = [api.role(n) for n in change.payload["add"] if n not in current]
        remove = [api.role(n) for n in change.payload["remove"] if n in current]
        if add:
            api.add_composites(default_role["id"], add)
        if remove:
            api.remove_composites(default_role["id"], remove)

    def export(self, live: LiveRealm) -> Json:
        return {"defaultRoles": sorted(default_realm_roles(live))}
