"""Client scopes of the realm's own (Keycloak's built-in ones may be tuned, never
pruned), and the default scopes a declared client gets. Assignments are only added:
a client keeps the default scopes Keycloak gave it."""

from __future__ import annotations

from typing import Literal

from idpack.errors import IdpackError
from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import BUILT_IN_CLIENTS, PlanContext, pick
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import ConfigValue, Strict, Text

BUILT_IN_CLIENT_SCOPES = frozenset({
    "acr", "address", "basic", "email", "microprofile-jwt", "offline_access", "organization",
    "phone", "profile", "role_list", "roles", "saml_organization", "service_account",
    "web-origins", "AuthnContextClassRef"})


class ClientScope(Strict):
    description: Text | None = None
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    attributes: dict[str, ConfigValue] | None = None


def live_client_scopes(live: LiveRealm) -> dict[str, Json]:
    """Every client scope of the realm, built-in ones too, by name."""
    return {s["name"]: s for s in live.export.get("clientScopes", [])}


class ClientScopesKind:
    name = "client scope"
    prune_key = "clientScopes"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        scopes = live_client_scopes(ctx.live)
        for name, scope in ctx.config.clientScopes.items():
            declared = {k: v for k, v in scope.model_dump().items() if v is not None}
            live = scopes.get(name)
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
        if self.prune_key in ctx.prune:
            keep = set(ctx.config.clientScopes) | BUILT_IN_CLIENT_SCOPES
            changes += [Change(self.name, name, "delete", (FieldChange("name", name, None),),
                               payload={"id": live["id"]})
                        for name, live in scopes.items() if name not in keep]
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

    def export(self, live: LiveRealm) -> Json | None:
        """The realm's own scopes (Keycloak's built-in ones are left out), so that a
        `--prune` of the exported file keeps them."""
        scopes = {}
        for name, scope in live_client_scopes(live).items():
            if name in BUILT_IN_CLIENT_SCOPES:
                continue
            entry = pick(scope, ["description", "protocol"])
            if scope.get("attributes"):
                entry["attributes"] = dict(scope["attributes"])
            scopes[name] = entry
        return {"clientScopes": scopes} if scopes else None


class ClientDefaultScopesKind:
    name = "client default scope"
    prune_key = None  # only added: a client keeps the scopes Keycloak gave it

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

    def export(self, live: LiveRealm) -> Json:
        """Each of the realm's own clients' default scopes, all of them: the plan of the
        exported file then adds none."""
        return {"clients": {
            client_id: {"defaultClientScopes": client["defaultClientScopes"]}
            for client_id, client in live.clients.items()
            if client_id not in BUILT_IN_CLIENTS and client.get("defaultClientScopes") is not None}}
