"""Client scopes of the realm's own (Keycloak's built-in ones may be tuned, never
pruned), and the default scopes a declared client gets. Assignments are only added:
a client keeps the default scopes Keycloak gave it."""

from __future__ import annotations

from idpack.errors import IdpackError
from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext
from provisioning.plan import Change, FieldChange

BUILT_IN_CLIENT_SCOPES = frozenset({
    "acr", "address", "basic", "email", "microprofile-jwt", "offline_access", "organization",
    "phone", "profile", "role_list", "roles", "saml_organization", "service_account",
    "web-origins", "AuthnContextClassRef"})


class ClientScopesKind:
    name = "client scope"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for name, scope in ctx.config.clientScopes.items():
            declared = {k: v for k, v in scope.model_dump().items() if v is not None}
            live = ctx.live.client_scopes.get(name)
            if live is None:
                changes.append(Change(self.name, name, "create",
                                      tuple(field_changes(declared, {})),
                                      payload={"name": name, **declared}))
                continue
            fields = field_changes(scope.declared(), live)
            if fields:
                changes.append(Change(self.name, name, "update", tuple(fields), payload={
                    "id": live["id"], "representation": {
                        **{k: live[k] for k in ("id", "name", "description", "protocol",
                                                "attributes") if k in live},
                        **scope.declared()}}))
        if "clientScopes" in ctx.prune:
            keep = set(ctx.config.clientScopes) | BUILT_IN_CLIENT_SCOPES
            changes += [Change(self.name, name, "delete", (FieldChange("name", name, None),),
                               payload={"id": live["id"]})
                        for name, live in ctx.live.client_scopes.items() if name not in keep]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "create":
            existing = api.client_scope_by_name(change.name)
            if existing is None:
                api.create_client_scope(change.payload)
            else:  # made by an apply that was cut off
                api.update_client_scope(existing["id"], {**existing, **change.payload})
        elif change.action == "update":
            api.update_client_scope(change.payload["id"], change.payload["representation"])
        else:
            api.delete_client_scope(change.payload["id"])


class ClientDefaultScopesKind:
    name = "client default scope"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for client_id, client in ctx.config.clients.items():
            live = ctx.live.clients.get(client_id) or {}
            have = set(live.get("defaultClientScopes") or ())
            for scope in client.defaultClientScopes or ():
                if scope not in have:
                    changes.append(Change(self.name, f"{client_id}/{scope}", "create",
                                          (FieldChange("defaultClientScopes", None, scope),),
                                          payload={"client": client_id, "scope": scope}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        client = api.client_by_client_id(change.payload["client"])
        scope = api.client_scope_by_name(change.payload["scope"])
        if client is None:
            raise IdpackError(f"client {change.payload['client']} does not exist in Keycloak")
        if scope is None:
            raise IdpackError(f"client scope {change.payload['scope']} does not exist in "
                              "Keycloak: declare it under clientScopes")
        api.add_default_client_scope(client["id"], scope["id"])
