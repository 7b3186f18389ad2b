"""Authentication flows: top-level flows declared whole (their steps, in order, with
requirements, sub-flows and authenticator configs), and where they are bound.

A flow that exists is changed in place, step by step (flow_steps.py): steps are added,
removed, re-ordered (by priority) and given their requirement; the flow itself is
never deleted and created again, so its id, and the bindings and logins in progress
that refer to it, survive an apply. Keycloak's built-in flows may be tuned
(requirements, configs) but never get other steps and are never deleted.

Two kinds, at two places in the apply order: the flows early (identity providers
name their first-login flows), the bindings last (the realm's browserFlow and the
like, clients' overrides), once every flow and client exists; a flow that is pruned
goes only after nothing binds it any more."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import BUILT_IN_CLIENTS, Kind, PlanContext, Section, pick, unique
from provisioning.kinds.clients import CLIENTS
from provisioning.kinds.flow_steps import (
    AuthenticatorConfigJson,
    FlowExecution,
    FlowJson,
    LiveFlows,
    exported_steps,
    outline,
    plan_steps,
    reconcile_steps,
)
from provisioning.kinds.identity_providers import IDENTITY_PROVIDERS
from provisioning.kinds.realm_settings import FLOW_BINDINGS, SETTINGS
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Strict, Text


class AuthenticationFlow(Strict):
    """A top-level flow, declared whole: its steps in order, with their requirements.
    Bind it through settings (browserFlow, directGrantFlow, ...), a client's
    authenticationFlowBindingOverrides, or an identity provider."""

    description: Text | None = None
    providerId: Literal["basic-flow", "client-flow"] = "basic-flow"
    executions: list[FlowExecution] = Field(default_factory=list)


FLOWS = Section[dict[str, AuthenticationFlow]]("authenticationFlows", default_factory=dict)


class AuthenticationFlowsKind(Kind):
    name = "authentication flow"
    sections = (FLOWS,)
    representation: ClassVar = {
        "authenticationFlows": Annotated[list[FlowJson], AfterValidator(unique("alias"))]
        | None,
        "authenticatorConfig": Annotated[list[AuthenticatorConfigJson],
                                         AfterValidator(unique("alias"))] | None}
    # Planned by the bindings' kind, once the bindings have moved off a flow.
    prune_key = "authenticationFlows"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        live = LiveFlows.of(ctx.live)
        for alias, flow in FLOWS.of(ctx.config).items():
            current = live.flows.get(alias)
            if current is None:
                fields = [FieldChange("executions", None, outline(flow.executions))]
                if flow.description is not None:
                    fields.insert(0, FieldChange("description", None, flow.description))
                changes.append(Change(self.name, alias, "create", tuple(fields),
                                      payload={"flow": flow, "built_in": False}))
                continue
            if not current.get("topLevel"):
                raise ValueError(f"{alias!r} is a sub-flow in Keycloak; declare it inside "
                                 "its flow (flowAlias), or give this flow another alias")
            fields = plan_steps(live, alias, flow.executions)
            if flow.description is not None and current.get("description") != flow.description:
                fields.insert(0, FieldChange("description", current.get("description"),
                                             flow.description))
            if current.get("builtIn") and any(f.path.endswith("executions") for f in fields):
                raise ValueError(f"{alias!r} is built into Keycloak: its steps' requirements "
                                 "and configs may be tuned, but it takes no other steps; "
                                 "declare a copy under an alias of your own and bind that")
            if fields:
                changes.append(Change(self.name, alias, "update", tuple(fields), payload={
                    "flow": flow, "built_in": bool(current.get("builtIn"))}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "delete":
            api.delete_flow(change.payload["id"])
            return
        alias = change.name
        flow: AuthenticationFlow = change.payload["flow"]
        existing = next((f for f in api.flows() if f["alias"] == alias), None)
        if existing is None:
            api.create_flow({"alias": alias, "description": flow.description or "",
                             "providerId": flow.providerId, "topLevel": True,
                             "builtIn": False})
        elif flow.description is not None and existing.get("description") != flow.description:
            api.update_flow(existing["id"], {**existing, "description": flow.description})
        reconcile_steps(api, alias, flow.executions)

    def export(self, live: LiveRealm) -> Json | None:
        """The realm's own top-level flows (Keycloak's built-in ones are left out)."""
        flows = LiveFlows.of(live)
        exported = {}
        for alias, flow in flows.flows.items():
            if not flow.get("topLevel") or flow.get("builtIn"):
                continue
            entry: Json = {}
            if flow.get("description"):
                entry["description"] = flow["description"]
            if (flow.get("providerId") or "basic-flow") != "basic-flow":
                entry["providerId"] = flow["providerId"]
            entry["executions"] = exported_steps(flows, alias)
            exported[alias] = entry
        return {"authenticationFlows": exported} if exported else None


# Bindings, and pruning once nothing binds a flow

# The flows Keycloak 26 makes with every realm: a realm this plan creates has them too.
NEW_REALM_FLOWS = frozenset({"browser", "direct grant", "registration", "reset credentials",
                             "clients", "first broker login", "docker auth"})


class FlowBindingsKind(Kind):
    """A binding is declared (exact) or left alone; flows are pruned here, after the
    bindings moved off them."""

    name = "flow binding"

    def plan(self, ctx: PlanContext) -> list[Change]:
        live, config = ctx.live, ctx.config
        flows = LiveFlows.of(live)
        known = set(flows.flows) | set(FLOWS.of(config))
        if not live.exists:
            known |= NEW_REALM_FLOWS
        changes: list[Change] = []
        realm = {k: v for k, v in SETTINGS.of(config).declared().items() if k in FLOW_BINDINGS}
        for field, alias in realm.items():
            if alias not in known:
                raise ValueError(f"settings.{field}: no flow {alias!r} in the file or realm")
        fields = [FieldChange(k, live.export.get(k), v) for k, v in realm.items()
                  if live.export.get(k) != v]
        if fields:
            changes.append(Change(self.name, f"realm {config.realm}", "update", tuple(fields),
                                  payload={"realm": {f.path: f.after for f in fields}}))
        by_id = _alias_by_id(flows)
        for client_id, client in CLIENTS.of(config).items():
            wanted = client.authenticationFlowBindingOverrides
            if wanted is None:
                continue
            for binding, alias in wanted.items():
                if alias not in known:
                    raise ValueError(f"client {client_id}: {binding} override names no flow "
                                     f"{alias!r} in the file or realm")
            current = live.clients.get(client_id) or {}
            have = {k: by_id.get(v, v) for k, v in
                    (current.get("authenticationFlowBindingOverrides") or {}).items()}
            if have != dict(wanted):
                changes.append(Change(self.name, f"client {client_id}", "update", (
                    FieldChange("authenticationFlowBindingOverrides", have or None,
                                dict(wanted)),), payload={"client": client_id,
                                                          "overrides": dict(wanted)}))
        if AuthenticationFlowsKind.prune_key in ctx.prune:
            changes += self._prune(ctx, flows)
        return changes

    def _prune(self, ctx: PlanContext, flows: LiveFlows) -> list[Change]:
        used = _bound_after_apply(ctx, flows)
        changes = []
        for alias, flow in flows.flows.items():
            if (not flow.get("topLevel") or flow.get("builtIn")
                    or alias in FLOWS.of(ctx.config)):
                continue
            if alias in used:
                raise ValueError(f"flow {alias!r} is not declared, so --prune would delete "
                                 f"it, but {used[alias]} uses it: declare it, or bind "
                                 "another flow")
            # Planned here, after the bindings that may move away from it; applied by
            # the flows' kind.
            changes.append(Change(AuthenticationFlowsKind.name, alias, "delete",
                                  (FieldChange("alias", alias, None),),
                                  payload={"id": flow["id"]}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        payload = change.payload
        if "realm" in payload:
            api.update(payload["realm"])
        else:
            ids = {f["alias"]: f["id"] for f in api.flows()}
            client = api.client_by_client_id(payload["client"])
            if client is None:
                raise ValueError(f"Keycloak has no client {payload['client']}")
            # Keycloak keeps an override it is not sent; an empty one removes it.
            gone = dict.fromkeys(client.get("authenticationFlowBindingOverrides") or {}, "")
            api.update_client(client["id"], {
                "clientId": payload["client"],
                "authenticationFlowBindingOverrides": gone | {
                    binding: ids[alias] for binding, alias in payload["overrides"].items()}})

    def export(self, live: LiveRealm) -> Json:
        """The realm's bindings in `settings`, and the realm's own clients' overrides
        (by flow alias) in their entries."""
        by_id = _alias_by_id(LiveFlows.of(live))
        overrides = {}
        for client_id, client in live.clients.items():
            bound = client.get("authenticationFlowBindingOverrides")
            if client_id not in BUILT_IN_CLIENTS and live.written(bound):
                overrides[client_id] = {"authenticationFlowBindingOverrides": {
                    binding: by_id.get(flow_id, flow_id)
                    for binding, flow_id in (bound or {}).items()}}
        return {"settings": pick(live.export, FLOW_BINDINGS), "clients": overrides}


def _alias_by_id(flows: LiveFlows) -> dict[str, str]:
    """Flow id -> alias (realm JSON written by hand has no ids: none there)."""
    return {str(f["id"]): alias for alias, f in flows.flows.items() if f.get("id")}


def _bound_after_apply(ctx: PlanContext, flows: LiveFlows) -> dict[str, str]:
    """Flow alias -> what will use it once the plan is applied: the realm's bindings,
    clients' overrides and identity providers' login flows, as declared where the file
    declares them and as they are otherwise."""
    live, config = ctx.live, ctx.config
    used: dict[str, str] = {}
    declared = SETTINGS.of(config).declared()
    for field in FLOW_BINDINGS:
        alias = declared.get(field) or live.export.get(field)
        if alias:
            used[str(alias)] = f"settings.{field}"
    by_id = _alias_by_id(flows)
    for client_id, client in live.clients.items():
        overrides = (client.get("authenticationFlowBindingOverrides") or {}).items()
        declared_overrides = CLIENTS.of(config).get(client_id)
        if declared_overrides is not None and \
                declared_overrides.authenticationFlowBindingOverrides is not None:
            overrides = declared_overrides.authenticationFlowBindingOverrides.items()
            used.update({alias: f"client {client_id}" for _, alias in overrides})
            continue
        used.update({by_id.get(v, v): f"client {client_id}" for _, v in overrides})
    providers = IDENTITY_PROVIDERS.of(config)
    for alias in set(live.identity_providers) | set(providers):
        declared_idp = providers.get(alias)
        provider = live.identity_providers.get(alias) or {}
        for key in ("firstBrokerLoginFlowAlias", "postBrokerLoginFlowAlias"):
            flow = getattr(declared_idp, key) if declared_idp is not None else provider.get(key)
            if flow:
                used[str(flow)] = f"identity provider {alias}"
    return used
