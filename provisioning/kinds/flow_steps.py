"""One authentication flow's steps, for the flows' kind (authentication_flows.py): how
the file declares a step, how Keycloak's two readings show it (the realm export, the
executions API), how two lists of steps differ, and how apply makes a flow's steps
what the file says, in place.

A step is matched by its authenticator, or a sub-flow by its alias, numbered by
occurrence (a flow may hold one authenticator twice); so moving a step re-orders it
and never deletes and re-creates it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Required

from pydantic import Field, model_validator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.live import Json, LiveRealm
from provisioning.plan import FieldChange
from provisioning.schema_types import ConfigValue, Strict, Text, json_shape

STEP = 10  # priorities given to re-ordered steps: 10, 20, 30, ...
Requirement = Literal["REQUIRED", "ALTERNATIVE", "DISABLED", "CONDITIONAL"]


class FlowExecution(Strict):
    """One step of a flow: an authenticator, or a sub-flow (`flowAlias`) declared here
    with its own steps. A form sub-flow names its form as `authenticator`, as
    Keycloak's export does (e.g. registration-page-form)."""

    authenticator: str | None = None
    flowAlias: Text | None = None
    requirement: Requirement
    # The authenticator's configuration, under an alias of its own (Keycloak's
    # AuthenticatorConfigRepresentation).
    authenticatorConfig: Text | None = None
    config: dict[str, ConfigValue] | None = None
    # Sub-flows only.
    description: Text | None = None
    providerId: Literal["basic-flow", "form-flow"] = "basic-flow"
    executions: list[FlowExecution] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> FlowExecution:
        if self.flowAlias is None:
            if self.authenticator is None:
                raise ValueError("give authenticator (a step) or flowAlias (a sub-flow)")
            if self.executions or self.description is not None:
                raise ValueError("executions and description are for sub-flows (flowAlias)")
        if (self.config is None) != (self.authenticatorConfig is None):
            raise ValueError("config and authenticatorConfig (its alias) go together")
        return self


@json_shape
class ExecutionJson(TypedDict, total=False):
    """A step as a realm export writes it (AuthenticationExecutionExportRepresentation)."""

    authenticator: str | None
    authenticatorFlow: bool | None
    flowAlias: str | None
    requirement: Required[str]
    priority: int | None
    authenticatorConfig: str | None


@json_shape
class FlowJson(TypedDict, total=False):
    alias: Required[str]
    description: str | None
    providerId: str | None
    topLevel: bool | None
    builtIn: bool | None
    authenticationExecutions: list[ExecutionJson] | None


@json_shape
class AuthenticatorConfigJson(TypedDict, total=False):
    alias: Required[str]
    config: dict[str, Any] | None


@dataclass(frozen=True)
class LiveFlows:
    """The realm's flows as its partial export shows them: every flow, top-level and
    sub-flow, by alias, its steps in priority order; authenticator configs by alias."""

    flows: dict[str, Json]
    configs: dict[str, Json]

    @classmethod
    def of(cls, live: LiveRealm) -> LiveFlows:
        flows = {}
        for flow in live.export.get("authenticationFlows") or []:
            # Steps without a priority keep their place (realm JSON written by hand).
            steps = sorted(flow.get("authenticationExecutions") or [],
                           key=lambda e: e.get("priority") or 0)
            flows[flow["alias"]] = {**flow, "authenticationExecutions": steps}
        return cls(flows, {c["alias"]: c for c in live.export.get("authenticatorConfig") or []})

    def steps(self, alias: str) -> list[Json]:
        return list((self.flows.get(alias) or {}).get("authenticationExecutions", []))


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


# Plan

def plan_steps(live: LiveFlows, alias: str, steps: list[FlowExecution],
               where: str = "") -> list[FieldChange]:
    """How the live flow `alias` differs from `steps`: the list of steps when steps
    come, go or move, then each kept step's requirement and config, then sub-flows."""
    live_steps = live.steps(alias)
    changes = []
    wanted = numbered(wanted_key(s) for s in steps)
    have = numbered(exported_key(s) for s in live_steps)
    if wanted != have:
        changes.append(FieldChange(
            f"{where}executions", [f"{exported_key(s)}: {s.get('requirement')}"
                                   for s in live_steps],
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
            config = live.configs.get(str(current.get("authenticatorConfig")))
            if current.get("authenticatorConfig") != step.authenticatorConfig:
                changes.append(FieldChange(f"{name}.authenticatorConfig",
                                           current.get("authenticatorConfig"),
                                           step.authenticatorConfig))
            if (config or {}).get("config") != step.config:
                changes.append(FieldChange(f"{name}.config", (config or {}).get("config"),
                                           step.config))
        if step.flowAlias is not None:
            sub = live.flows.get(step.flowAlias) or {}
            if step.description is not None and sub.get("description") != step.description:
                changes.append(FieldChange(f"{name}.description", sub.get("description"),
                                           step.description))
            changes += plan_steps(live, step.flowAlias, step.executions,
                                  f"{where}{step.flowAlias} > ")
    return changes


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


# Export: the live steps as the file declares them

def exported_steps(live: LiveFlows, alias: str, within: tuple[str, ...] = ()) -> list[Json]:
    if alias in within:
        raise ValueError(f"flow {alias!r} contains itself: " + " > ".join([*within, alias]))
    steps = []
    for execution in live.steps(alias):
        step: Json = {}
        if execution.get("authenticator"):
            step["authenticator"] = execution["authenticator"]
        if execution.get("authenticatorFlow"):
            step["flowAlias"] = execution.get("flowAlias")
        step["requirement"] = execution["requirement"]
        config = live.configs.get(str(execution.get("authenticatorConfig")))
        if config is not None:
            step["authenticatorConfig"] = config["alias"]
            step["config"] = dict(config.get("config") or {})
        if execution.get("authenticatorFlow") and execution.get("flowAlias"):
            sub = live.flows.get(execution["flowAlias"]) or {}
            if sub.get("description"):
                step["description"] = sub["description"]
            if (sub.get("providerId") or "basic-flow") != "basic-flow":
                step["providerId"] = sub["providerId"]
            step["executions"] = exported_steps(live, execution["flowAlias"], (*within, alias))
        steps.append(step)
    return steps
