"""Client scopes of the realm's own (Keycloak's built-in ones may be tuned, never
pruned), and the default and optional scopes of each declared client. A scope's
`attributes` hold Keycloak's settings of it (consent screen, token scope), so the keys
the file gives are exact and the others are Keycloak's. A client's declared
`defaultClientScopes` and `optionalClientScopes` are whole lists: a new client's
scopes are made exactly those, whatever Keycloak gives a new client."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Required

from pydantic import AfterValidator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import BUILT_IN_CLIENTS, Kind, PlanContext, Section, pick, unique
from provisioning.kinds.clients import CLIENTS, ProtocolMapper
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import ConfigValue, Strict, Text, json_shape

BUILT_IN_CLIENT_SCOPES = frozenset({
    "acr", "address", "basic", "email", "microprofile-jwt", "offline_access", "organization",
    "phone", "profile", "role_list", "roles", "saml_organization", "service_account",
    "web-origins", "AuthnContextClassRef"})


class ClientScope(Strict):
    description: Text | None = None
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    attributes: dict[str, ConfigValue] | None = None
    # by name; planned by client_scope_mappers.py, never sent with the scope itself
    protocolMappers: dict[str, ProtocolMapper] | None = None

    def scope_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.declared().items() if k != "protocolMappers"}


CLIENT_SCOPES = Section[dict[str, ClientScope]]("clientScopes", default_factory=dict)


@json_shape
class ClientScopeJson(TypedDict, total=False):
    name: Required[str]
    description: str | None
    protocol: str | None
    attributes: dict[str, Any] | None


def live_client_scopes(live: LiveRealm) -> dict[str, Json]:
    """Every client scope of the realm, built-in ones too, by name."""
    return {s["name"]: s for s in live.export.get("clientScopes") or []}


class ClientScopesKind(Kind):
    name = "client scope"
    sections = (CLIENT_SCOPES,)
    representation: ClassVar = {
        "clientScopes": Annotated[list[ClientScopeJson], AfterValidator(unique("name"))] | None}
    prune_key = "clientScopes"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        scopes = live_client_scopes(ctx.live)
        declared_scopes = CLIENT_SCOPES.of(ctx.config)
        for name, scope in declared_scopes.items():
            declared = {k: v for k, v in scope.model_dump().items()
                        if v is not None and k != "protocolMappers"}
            live = scopes.get(name)
            if live is None:
                changes.append(Change(self.name, name, "create",
                                      tuple(field_changes(declared, {})),
                                      payload={"name": name, **declared}))
                continue
            fields = field_changes(scope.scope_fields(), live)
            if fields:
                changes.append(Change(self.name, name, "update", tuple(fields), payload={
                    "id": live["id"], "representation": {
                        **{k: live[k] for k in ("id", "name", "description", "protocol",
                                                "attributes") if k in live},
                        **scope.scope_fields()}}))
        if self.prune_key in ctx.prune:
            keep = set(declared_scopes) | BUILT_IN_CLIENT_SCOPES
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


SCOPE_LISTS = {"defaultClientScopes": "default", "optionalClientScopes": "optional"}


class ClientDefaultScopesKind(Kind):
    name = "client scope assignments"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for client_id, client in CLIENTS.of(ctx.config).items():
            live = ctx.live.clients.get(client_id)
            for field, which in SCOPE_LISTS.items():
                wanted = getattr(client, field)
                if wanted is None:
                    continue
                have = None if live is None else sorted(live.get(field) or [])
                if have is not None and set(have) == set(wanted):
                    continue
                changes.append(Change(self.name, f"{client_id} {which}",
                                      "create" if live is None else "update",
                                      (FieldChange(field, have, sorted(wanted)),),
                                      payload={"client": client_id, "which": which,
                                               "wanted": sorted(wanted)}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        # From what Keycloak holds now: a client this apply created has the realm's
        # default scopes, which the plan could not see.
        client = api.client_by_client_id(change.payload["client"])
        if client is None:
            raise ValueError(f"client {change.payload['client']} does not exist in Keycloak")
        which, wanted = change.payload["which"], set(change.payload["wanted"])
        held = {s["name"]: str(s["id"]) for s in api.client_scopes_of(client["id"], which)}
        for name in sorted(wanted - set(held)):
            scope = api.client_scope_by_name(name)
            if scope is None:
                raise ValueError(f"client scope {name} does not exist in Keycloak: "
                                 "declare it under clientScopes")
            api.set_client_scope(client["id"], which, scope["id"], True)
        for name in sorted(set(held) - wanted):
            api.set_client_scope(client["id"], which, held[name], False)

    def export(self, live: LiveRealm) -> Json:
        """The realm's own clients' default and optional scopes, whole lists."""
        return {"clients": {
            client_id: {field: sorted(client[field]) for field in SCOPE_LISTS
                        if client.get(field) is not None}
            for client_id, client in live.clients.items()
            if client_id not in BUILT_IN_CLIENTS
            and any(client.get(f) is not None for f in SCOPE_LISTS)}}
