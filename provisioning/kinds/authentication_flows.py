"""Authentication flows: top-level flows declared whole (their steps, in order, with
requirements, sub-flows and authenticator configs), and where they are bound.

A flow that exists is changed in place, step by step: steps are added, removed,
re-ordered (by priority) and given their requirement; the flow itself is never
deleted and created again, so its id, and the bindings and logins in progress that
refer to it, survive an apply. Keycloak's built-in flows may be tuned (requirements,
configs) but never get other steps and are never deleted.

Two kinds, at two places in the apply order: the flows early (identity providers
name their first-login flows), the bindings last (the realm's browserFlow and the
like, clients' overrides), once every flow and client exists; a flow that is pruned
goes only after nothing binds it any more."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import PlanContext
from provisioning.kinds.realm_settings import FLOW_BINDINGS
from provisioning.live import LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema import AuthenticationFlow, FlowExecution

Json = dict[str, Any]
STEP = 10  # priorities given to re-ordered steps: 10, 20, 30, ...


# What a step is, in the file and in Keycloak's two readings (export, executions API)

def wanted_key(step: FlowExecution) -> str:
    return f"flow {step.flowAlias}" if step.flowAlias is not None else str(step.authenticator)


def exported_key(step: Json) -> str:
    """A step of the realm export (AuthenticationExecutionExportRepresentation)."""
    if step.get("authenticatorFlow"):
        return f"flow {step.get('flowAlias')}"
    return str(step.get("authenticator"))


def execution_key(execution: Json) -> str:
    """A step as the executions API shows it (AuthenticationExecutionInfoRepresentation):
    a sub-flow by its alias, which is its display name."""
    if execution.get("authenticationFlow"):
        return f"flow {execution.get('displayName')}"
    return str(execution.get("providerId"))


def numbered(keys: Iterable[str]) -> list[str]:
    """Keys made unique by occurrence: a flow may hold one authenticator twice."""
    seen: Counter[str] = Counter()
    result = []
    for key in keys:
        result.append(f"{key}#{seen[key]}" if seen[key] else key)
        seen[key] += 1
    return result


def outline(steps: list[FlowExecution], indent: str = "") -> list[str]:
    """The steps as the plan prints them: one line each, sub-flows indented."""
    lines = []
    for step in steps:
        lines.append(f"{indent}{wanted_key(step)}: {step.requirement}")
        lines += outline(step.executions, indent + "  ")
    return lines


def _live_outline(live: LiveRealm, alias: str) -> list[str]:
    flow = live.authentication_flows.get(alias) or {}
    return [f"{exported_key(s)}: {s.get('requirement')}"
            for s in flow.get("authenticationExecutions", [])]


# Plan

def plan_steps(live: LiveRealm, alias: str, steps: list[FlowExecution],
               where: str = "") -> list[FieldChange]:
    """How the live flow `alias` differs from `steps`: the list of steps when steps
    come, go or move, then each kept step's requirement and config, then sub-flows."""
    flow = live.authentication_flows.get(alias) or {}
    live_steps = flow.get("authenticationExecutions", [])
    changes = []
    wanted = numbered(wanted_key(s) for s in steps)
    have = numbered(exported_key(s) for s in live_steps)
    if wanted != have:
        changes.append(FieldChange(f"{where}executions", _live_outline(live, alias),
                                   [f"{wanted_key(s)}: {s.requirement}" for s in steps]))
    by_key = dict(zip(have, live_steps, strict=True))
    for key, step in zip(wanted, steps, strict=True):
        current = by_key.get(key)
        if current is None:
            continue  # new: created whole, shown in the list above
        name = f"{where}{wanted_key(step)}"
        if current.get("requirement") != step.requirement:
            changes.append(FieldChange(f"{name}.requirement", current.get("requirement"),
                                       step.requirement))
        if step.config is not None:
            config = live.authenticator_configs.get(str(current.get("authenticatorConfig")))
            if current.get("authenticatorConfig") != step.authenticatorConfig:
                changes.append(FieldChange(f"{name}.authenticatorConfig",
                                           current.get("authenticatorConfig"),
                                           step.authenticatorConfig))
            if (config or {}).get("config") != step.config:
                changes.append(FieldChange(f"{name}.config", (config or {}).get("config"),
                                           step.config))
        if step.flowAlias is not None:
            sub = live.authentication_flows.get(step.flowAlias) or {}
            if step.description is not None and sub.get("description") != step.description:
                changes.append(FieldChange(f"{name}.description", sub.get("description"),
                                           step.description))
            changes += plan_steps(live, step.flowAlias, step.executions,
                                  f"{where}{step.flowAlias} > ")
    return changes


class AuthenticationFlowsKind:
    name = "authentication flow"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        live = ctx.live
        for alias, flow in ctx.config.authenticationFlows.items():
            current = live.authentication_flows.get(alias)
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


# Apply: make one flow's steps what the file says, in place

def _children(api: RealmAdmin, alias: str) -> list[Json]:
    return [e for e in api.flow_executions(alias) if e.get("level", 0) == 0]


def _matched(steps: list[FlowExecution], executions: list[Json]) -> tuple[
        list[Json | None], list[Json]]:
    """For each step, its execution (or None), and the executions no step claims."""
    by_key = dict(zip(numbered(execution_key(e) for e in executions), executions, strict=True))
    found = [by_key.pop(key, None) for key in numbered(wanted_key(s) for s in steps)]
    return found, list(by_key.values())


def reconcile_steps(api: RealmAdmin, alias: str, steps: list[FlowExecution]) -> None:
    found, extra = _matched(steps, _children(api, alias))
    for unwanted in extra:
        api.delete_execution(unwanted["id"])
    for step, existing in zip(steps, found, strict=True):
        if existing is not None:
            continue
        if step.flowAlias is None:
            api.add_execution(alias, str(step.authenticator))
        else:
            subflow: Json = {"alias": step.flowAlias, "type": step.providerId,
                             "description": step.description or ""}
            if step.authenticator is not None:
                subflow["provider"] = step.authenticator
            api.add_subflow(alias, subflow)
    executions = _children(api, alias)
    found, _ = _matched(steps, executions)
    in_order = [e["id"] for e in executions] == [e["id"] for e in found if e is not None]
    for index, (step, current) in enumerate(zip(steps, found, strict=True)):
        assert current is not None, f"{wanted_key(step)} was not added to {alias}"
        execution: Json = current
        priority = execution.get("priority") if in_order else (index + 1) * STEP
        if execution.get("requirement") != step.requirement or \
                execution.get("priority") != priority:
            api.update_execution(alias, {**execution, "requirement": step.requirement,
                                         "priority": priority})
        if step.config is not None:
            _configure(api, execution, step)
        if step.flowAlias is not None:
            if step.description is not None and execution.get("description") != step.description:
                sub = {"id": execution["flowId"], "alias": step.flowAlias,
                       "description": step.description, "providerId": step.providerId,
                       "topLevel": False, "builtIn": False}
                api.update_flow(execution["flowId"], sub)
            reconcile_steps(api, step.flowAlias, step.executions)


def _configure(api: RealmAdmin, execution: Json, step: FlowExecution) -> None:
    config_id = execution.get("authenticationConfig")
    if not config_id:
        api.create_authenticator_config(execution["id"], {
            "alias": step.authenticatorConfig, "config": step.config})
        return
    current = api.authenticator_config(config_id)
    if current.get("alias") != step.authenticatorConfig or current.get("config") != step.config:
        api.update_authenticator_config(config_id, {**current, "alias": step.authenticatorConfig,
                                                    "config": step.config})


# Bindings, and pruning once nothing binds a flow

class FlowBindingsKind:
    name = "flow binding"

    def plan(self, ctx: PlanContext) -> list[Change]:
        live, config = ctx.live, ctx.config
        known = set(live.authentication_flows) | set(config.authenticationFlows)
        changes: list[Change] = []
        realm = {k: v for k, v in config.settings.declared().items() if k in FLOW_BINDINGS}
        for field, alias in realm.items():
            if alias not in known:
                raise ValueError(f"settings.{field}: no flow {alias!r} in the file or realm")
        fields = [FieldChange(k, live.export.get(k), v) for k, v in realm.items()
                  if live.export.get(k) != v]
        if fields:
            changes.append(Change(self.name, f"realm {config.realm}", "update", tuple(fields),
                                  payload={"realm": {f.path: f.after for f in fields}}))
        by_id = {f["id"]: alias for alias, f in live.authentication_flows.items()}
        for client_id, client in config.clients.items():
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
        if "authenticationFlows" in ctx.prune:
            changes += self._prune(ctx)
        return changes

    def _prune(self, ctx: PlanContext) -> list[Change]:
        live, config = ctx.live, ctx.config
        used = _bound_after_apply(ctx)
        changes = []
        for alias, flow in live.authentication_flows.items():
            if (not flow.get("topLevel") or flow.get("builtIn")
                    or alias in config.authenticationFlows):
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
            assert client is not None, f"Keycloak has no client {payload['client']}"
            api.update_client(client["id"], {
                "clientId": payload["client"],
                "authenticationFlowBindingOverrides": {
                    binding: ids[alias] for binding, alias in payload["overrides"].items()}})


def _bound_after_apply(ctx: PlanContext) -> dict[str, str]:
    """Flow alias -> what will use it once the plan is applied: the realm's bindings,
    clients' overrides and identity providers' login flows, as declared where the file
    declares them and as they are otherwise."""
    live, config = ctx.live, ctx.config
    used: dict[str, str] = {}
    declared = config.settings.declared()
    for field in FLOW_BINDINGS:
        alias = declared.get(field) or live.export.get(field)
        if alias:
            used[str(alias)] = f"settings.{field}"
    by_id = {f["id"]: alias for alias, f in live.authentication_flows.items()}
    for client_id, client in live.clients.items():
        overrides = (client.get("authenticationFlowBindingOverrides") or {}).items()
        declared_overrides = config.clients.get(client_id)
        if declared_overrides is not None and \
                declared_overrides.authenticationFlowBindingOverrides is not None:
            overrides = declared_overrides.authenticationFlowBindingOverrides.items()
            used.update({alias: f"client {client_id}" for _, alias in overrides})
            continue
        used.update({by_id.get(v, v): f"client {client_id}" for _, v in overrides})
    for alias in set(live.identity_providers) | set(config.identityProviders):
        declared_idp = config.identityProviders.get(alias)
        provider = live.identity_providers.get(alias) or {}
        for key in ("firstBrokerLoginFlowAlias", "postBrokerLoginFlowAlias"):
            flow = getattr(declared_idp, key) if declared_idp is not None else provider.get(key)
            if flow:
                used[str(flow)] = f"identity provider {alias}"
    return used
