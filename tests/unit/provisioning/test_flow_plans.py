"""The authentication flows' and flow bindings' plans, from a live realm (as Keycloak's
partial export shows it) and the declared steps, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.kinds.authentication_flows import AuthenticationFlowsKind, FlowBindingsKind
from provisioning.kinds.flow_steps import FlowExecution, LiveFlows, plan_steps
from provisioning.live import LiveRealm
from tests.unit.provisioning.realms import declared, fields, live_realm, plan, summary


def step(authenticator: str, requirement: str, priority: int, **more: Any) -> dict[str, Any]:
    return {"authenticator": authenticator, "authenticatorFlow": False,
            "requirement": requirement, "priority": priority, **more}


def live_flows() -> LiveFlows:
    return LiveFlows.of(LiveRealm(name="r", exists=True, export={
        "authenticationFlows": [
            {"alias": "web", "topLevel": True, "builtIn": False, "authenticationExecutions": [
                step("identity-provider-redirector", "ALTERNATIVE", 20,
                     authenticatorConfig="to wayf"),
                step("auth-cookie", "ALTERNATIVE", 10),
                {"authenticatorFlow": True, "flowAlias": "web forms",
                 "requirement": "ALTERNATIVE", "priority": 30}]},
            {"alias": "web forms", "topLevel": False, "builtIn": False,
             "description": "forms", "authenticationExecutions": [
                 step("auth-username-password-form", "REQUIRED", 10),
                 step("auth-otp-form", "CONDITIONAL", 20)]}],
        "authenticatorConfig": [{"alias": "to wayf", "config": {"defaultProvider": "wayf"}}],
    }))


def declared_steps(**changes: Any) -> list[FlowExecution]:
    steps: list[dict[str, Any]] = [
        {"authenticator": "auth-cookie", "requirement": "ALTERNATIVE"},
        {"authenticator": "identity-provider-redirector", "requirement": "ALTERNATIVE",
         "authenticatorConfig": "to wayf", "config": {"defaultProvider": "wayf"}},
        {"flowAlias": "web forms", "requirement": "ALTERNATIVE", "description": "forms",
         "executions": [{"authenticator": "auth-username-password-form",
                         "requirement": "REQUIRED"},
                        {"authenticator": "auth-otp-form", "requirement": "CONDITIONAL"}]}]
    for index, more in changes.items():
        position = int(index.removeprefix("step"))
        steps[position] = {**steps[position], **more}
    return [FlowExecution.model_validate(s) for s in steps]


def test_the_same_steps_in_priority_order_plan_nothing() -> None:
    assert plan_steps(live_flows(), "web", declared_steps()) == []


def test_a_sub_flows_requirement_is_named_by_its_path() -> None:
    forms = declared_steps()[2].model_dump()
    forms["executions"][1]["requirement"] = "REQUIRED"

    [change] = plan_steps(live_flows(), "web", declared_steps(step2=forms))

    assert (change.path, change.before, change.after) == (
        "web forms > auth-otp-form.requirement", "CONDITIONAL", "REQUIRED")


def test_a_config_change_is_one_field() -> None:
    [change] = plan_steps(live_flows(), "web", declared_steps(
        step1={"config": {"defaultProvider": "github"}}))

    assert change.path == "identity-provider-redirector.config"
    assert (change.before, change.after) == ({"defaultProvider": "wayf"},
                                             {"defaultProvider": "github"})


def test_moved_or_new_steps_show_the_whole_list() -> None:
    steps = declared_steps()
    moved = [steps[1], steps[0], steps[2],
             FlowExecution(authenticator="auth-spnego", requirement="DISABLED")]

    [change] = plan_steps(live_flows(), "web", moved)

    assert change.path == "executions"
    assert change.before == ["auth-cookie: ALTERNATIVE",
                             "identity-provider-redirector: ALTERNATIVE",
                             "flow web forms: ALTERNATIVE"]
    assert change.after == ["identity-provider-redirector: ALTERNATIVE",
                            "auth-cookie: ALTERNATIVE", "flow web forms: ALTERNATIVE",
                            "auth-spnego: DISABLED"]


# The two kinds: flows whole, and what binds them

def flows_realm(**export: Any) -> LiveRealm:
    web = {"id": "f-web", "alias": "web", "topLevel": True, "builtIn": False,
           "description": "ours",
           "authenticationExecutions": [step("auth-cookie", "ALTERNATIVE", 10)]}
    browser = {"id": "f-browser", "alias": "browser", "topLevel": True, "builtIn": True,
               "authenticationExecutions": [step("auth-cookie", "ALTERNATIVE", 10)]}
    stray = {"id": "f-stray", "alias": "stray", "topLevel": True, "builtIn": False,
             "authenticationExecutions": []}
    return live_realm(authenticationFlows=[web, browser, stray], browserFlow="browser", **export)


WEB = {"description": "ours",
       "executions": [{"authenticator": "auth-cookie", "requirement": "ALTERNATIVE"}]}


def test_a_new_flow_is_created_with_its_outline() -> None:
    config = declared(authenticationFlows={"web": WEB, "otp": {"executions": [
        {"authenticator": "auth-otp-form", "requirement": "REQUIRED"}]}})

    [change] = plan(AuthenticationFlowsKind(), config, flows_realm())

    assert summary([change]) == [("authentication flow", "otp", "create")]
    assert fields(change) == [("executions", None, ["auth-otp-form: REQUIRED"])]


def test_a_built_in_flow_takes_no_other_steps() -> None:
    config = declared(authenticationFlows={"browser": {"executions": [
        {"authenticator": "auth-spnego", "requirement": "DISABLED"}]}})

    with pytest.raises(ValueError, match="'browser' is built into Keycloak"):
        plan(AuthenticationFlowsKind(), config, flows_realm())


def test_a_realm_binding_is_planned_after_the_flows_by_alias() -> None:
    config = declared(settings={"browserFlow": "web"}, authenticationFlows={"web": WEB})

    [change] = plan(FlowBindingsKind(), config, flows_realm())

    assert summary([change]) == [("flow binding", "realm r", "update")]
    assert fields(change) == [("browserFlow", "browser", "web")]


def test_a_clients_override_is_compared_by_alias_not_by_id() -> None:
    live = flows_realm(clients=[{"id": "c1", "clientId": "portal",
                                 "authenticationFlowBindingOverrides": {"browser": "f-web"}}])
    same = declared(clients={"portal": {"authenticationFlowBindingOverrides": {"browser": "web"}}})
    moved = declared(clients={"portal": {
        "authenticationFlowBindingOverrides": {"browser": "browser"}}})

    assert plan(FlowBindingsKind(), same, live) == []
    [change] = plan(FlowBindingsKind(), moved, live)
    assert fields(change) == [("authenticationFlowBindingOverrides", {"browser": "web"},
                               {"browser": "browser"})]


def test_prune_deletes_an_unbound_undeclared_flow_and_never_a_built_in_one() -> None:
    config = declared(authenticationFlows={"web": WEB})

    assert plan(FlowBindingsKind(), config, flows_realm()) == []
    [change] = plan(FlowBindingsKind(), config, flows_realm(), prune=("authenticationFlows",))
    assert summary([change]) == [("authentication flow", "stray", "delete")]
    assert change.payload == {"id": "f-stray"}


def test_prune_refuses_to_delete_a_flow_still_bound() -> None:
    config = declared(authenticationFlows={"web": WEB})
    live = flows_realm(resetCredentialsFlow="stray")

    with pytest.raises(ValueError,
                       match=r"'stray' is not declared.*settings\.resetCredentialsFlow uses it"):
        plan(FlowBindingsKind(), config, live, prune=("authenticationFlows",))
