"""The realm roles every new user gets: the realm composites of the realm's default role
(Keycloak's `default-roles-<realm in lower case>`). A declared list is exact for realm
roles; the client roles Keycloak puts there (account's manage-account, view-profile)
are left alone. Realm JSON declares the list as the default role's composites (or, in
exports older than Keycloak 13, as `defaultRoles`); a JSON without either leaves it."""

from __future__ import annotations

from typing import ClassVar

from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import Kind, PlanContext, Section
from provisioning.live import Json, LiveRealm, default_role_name
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import json_shape

DEFAULT_ROLES = Section[list[str] | None]("defaultRoles", default=None)


@json_shape
class DefaultRoleJson(TypedDict, total=False):
    name: str


def default_realm_roles(live: LiveRealm) -> frozenset[str] | None:
    """The realm roles every new user gets; None when the source does not say."""
    default = live.roles.get(live.default_role)
    if default is not None:
        return frozenset((default.get("composites") or {}).get("realm") or [])
    legacy = live.export.get("defaultRoles")
    return frozenset(legacy) if legacy is not None else None


class DefaultRolesKind(Kind):
    name = "default roles"
    sections = (DEFAULT_ROLES,)
    representation: ClassVar = {"defaultRole": DefaultRoleJson | None,
                      "defaultRoles": list[str] | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        wanted = DEFAULT_ROLES.of(ctx.config)
        if wanted is None:
            return []
        have = default_realm_roles(ctx.live) or frozenset()
        if ctx.live.exists and have == set(wanted):
            return []
        field = FieldChange("realm roles", sorted(have) if ctx.live.exists else None,
                            sorted(wanted))
        return [Change(self.name, ctx.config.realm, ctx.action, (field,),
                       payload={"wanted": sorted(wanted)})]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        # From what Keycloak holds now: a realm this apply created has Keycloak's
        # defaults (offline_access, uma_authorization), which the plan could not see.
        named = (api.get().get("defaultRole") or {}).get("name")
        default_role = api.role(str(named or default_role_name(api.name)))
        current = {r["name"]: r for r in api.role_composites(default_role["id"])
                   if not r.get("clientRole")}
        wanted = set(change.payload["wanted"])
        add = [api.role(n) for n in sorted(wanted - set(current))]
        remove = [r for n, r in sorted(current.items()) if n not in wanted]
        if add:
            api.add_composites(default_role["id"], add)
        if remove:
            api.remove_composites(default_role["id"], remove)

    def export(self, live: LiveRealm) -> Json | None:
        roles = default_realm_roles(live)
        return {"defaultRoles": sorted(roles)} if roles is not None else None
