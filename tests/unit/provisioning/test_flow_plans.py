"""The authentication-flow kind's plan, from a live realm (as Keycloak's partial export
shows it) and the declared steps, without a server."""

from __future__ import annotations

from typing import Any

from provisioning.kinds.authentication_flows import plan_steps
from provisioning.live import LiveRealm
from provisioning.schema import FlowExecution


def step(authenticator: str, requirement: str, priority: int, **more: Any) -> dict[str, Any]:
    return {"authenticator": authenticator, "authenticatorFlow": False,
            "requirement": requirement, "priority": priority, **more}


def live_realm() -> LiveRealm:
    return LiveRealm(name="r", exists=True, export={
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
    })


def declared(**changes: Any) -> list[FlowExecution]:
    steps: list[dict[str, Any]] = [
        {"authenticator": "auth-cookie", "requirement": "ALTERNATIVE"},
        {"authenticator": "identity-provider-redirector", "requirement": "ALTERNATIVE",
         "authenticatorConfig": "to wayf", "config": {"defaultProvider": "wayf"}},
        {"flowAlias": "web forms", "requirement": "ALTERNATIVE", "description": "forms",
         "executions": [{"authenticator": "auth-username-password-form",
                         "requirement": "REQUIRED"},
                        {"authenticator": "auth-otp-form", "requirement": "CONDITIONAL"}]}]
    for index, fields in changes.items():
        position = int(index.removeprefix("step"))
        steps[position] = {**steps[position], **fields}
    return [FlowExecution.model_validate(s) for s in steps]


def test_the_same_steps_in_priority_order_plan_nothing() -> None:
    assert plan_steps(live_realm(), "web", declared()) == []


def test_a_sub_flows_requirement_is_named_by_its_path() -> None:
    forms = declared()[2].model_dump()
    forms["executions"][1]["requirement"] = "REQUIRED"

    [change] = plan_steps(live_realm(), "web", declared(step2=forms))

    assert (change.path, change.before, change.after) == (
        "web forms > auth-otp-form.requirement", "CONDITIONAL", "REQUIRED")


def test_a_config_change_is_one_field() -> None:
    [change] = plan_steps(live_realm(), "web", declared(
        step1={"config": {"defaultProvider": "github"}}))

    assert change.path == "identity-provider-redirector.config"
    assert (change.before, change.after) == ({"defaultProvider": "wayf"},
                                             {"defaultProvider": "github"})


def test_moved_or_new_steps_show_the_whole_list() -> None:
    steps = declared()
    moved = [steps[1], steps[0], steps[2],
             FlowExecution(authenticator="auth-spnego", requirement="DISABLED")]

    [change] = plan_steps(live_realm(), "web", moved)

    assert change.path == "executions"
    assert change.before == ["auth-cookie: ALTERNATIVE",
                             "identity-provider-redirector: ALTERNATIVE",
                             "flow web forms: ALTERNATIVE"]
    assert change.after == ["identity-provider-redirector: ALTERNATIVE",
                            "auth-cookie: ALTERNATIVE", "flow web forms: ALTERNATIVE",
                            "auth-spnego: DISABLED"]
