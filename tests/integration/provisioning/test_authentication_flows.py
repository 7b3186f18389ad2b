"""Authentication flows as code against the real Keycloak: created whole, changed in
place step by step (the flow keeps its id), drift found and repaired, bindings to the
realm and a client, pruning limited to undeclared flows of the realm's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from provisioning.source import ConfigError
from tests.support.realm import applied, apply, load, plan

BROWSER = "mikrocloud browser"
FORMS = "mikrocloud browser forms"
SECOND = "mikrocloud browser second factor"
SETUP = "mikrocloud browser second factor setup"
# The realm's browser flow, as realm-config/mikrocloud.yaml declares it; an overlay
# repeats it whole with one requirement changed.
BROWSER_YAML = f"""
authenticationFlows:
  {BROWSER}:
    executions:
      - {{authenticator: auth-cookie, requirement: ALTERNATIVE}}
      - {{authenticator: identity-provider-redirector, requirement: REDIRECTOR}}
      - flowAlias: {FORMS}
        requirement: ALTERNATIVE
        executions:
          - {{authenticator: auth-username-password-form, requirement: REQUIRED}}
          - flowAlias: {SECOND}
            requirement: CONDITIONAL
            executions:
              - {{authenticator: conditional-user-configured, requirement: REQUIRED}}
              - {{authenticator: auth-otp-form, requirement: ALTERNATIVE}}
              - {{authenticator: auth-recovery-authn-code-form, requirement: ALTERNATIVE}}
          - flowAlias: {SETUP}
            requirement: CONDITIONAL
            executions:
              - {{authenticator: conditional-credential, requirement: REQUIRED,
                 authenticatorConfig: mikrocloud browser no second factor yet,
                 config: {{credentials: "otp##recovery-authn-codes", included: "false"}}}}
              - {{authenticator: auth-otp-form, requirement: REQUIRED}}
"""


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient) -> Iterator[str]:
    with applied(keycloak_admin, "t-flows") as name:
        yield name


def steps(admin: KeycloakAdminClient, realm: str, alias: str) -> list[tuple[int, str, str]]:
    """(level, step, requirement) of a flow, as the admin console lists them."""
    return [(e["level"], e.get("providerId") or f"flow {e['displayName']}", e["requirement"])
            for e in admin.realm(realm).flow_executions(alias)]


def flow_id(admin: KeycloakAdminClient, realm: str, alias: str) -> str:
    return str(next(f["id"] for f in admin.realm(realm).flows() if f["alias"] == alias))


def overlay(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(text)
    return path


def test_the_flows_are_created_whole_and_bound(keycloak_admin: KeycloakAdminClient,
                                              realm: str) -> None:
    api = keycloak_admin.realm(realm)

    assert steps(keycloak_admin, realm, BROWSER) == [
        (0, "auth-cookie", "ALTERNATIVE"), (0, "identity-provider-redirector", "ALTERNATIVE"),
        (0, f"flow {FORMS}", "ALTERNATIVE"), (1, "auth-username-password-form", "REQUIRED"),
        (1, f"flow {SECOND}", "CONDITIONAL"), (2, "conditional-user-configured", "REQUIRED"),
        (2, "auth-otp-form", "ALTERNATIVE"), (2, "auth-recovery-authn-code-form", "ALTERNATIVE"),
        (1, f"flow {SETUP}", "CONDITIONAL"), (2, "conditional-credential", "REQUIRED"),
        (2, "auth-otp-form", "REQUIRED")]
    assert steps(keycloak_admin, realm, "idpack password check") == [
        (0, "direct-grant-validate-username", "REQUIRED"),
        (0, "direct-grant-validate-password", "REQUIRED"), (0, "reset-password", "REQUIRED")]
    assert api.get()["browserFlow"] == BROWSER
    check = api.client_by_client_id("idpack-password-check")
    assert check is not None
    assert check["authenticationFlowBindingOverrides"] == {
        "direct_grant": flow_id(keycloak_admin, realm, "idpack password check")}
    assert check["fullScopeAllowed"] is False
    assert plan(keycloak_admin, load(realm)).empty


def test_one_changed_requirement_is_planned_as_that_field_and_changed_in_place(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    before = flow_id(keycloak_admin, realm, BROWSER)
    changed = overlay(tmp_path, BROWSER_YAML.replace("REDIRECTOR", "DISABLED"))
    try:
        result = plan(keycloak_admin, load(realm, changed))
        assert [(c.kind, c.name, c.action) for c in result.changes] == [
            ("authentication flow", BROWSER, "update")]
        [field] = result.changes[0].fields
        assert (field.path, field.before, field.after) == (
            "identity-provider-redirector.requirement", "ALTERNATIVE", "DISABLED")

        apply(keycloak_admin, load(realm, changed))

        assert steps(keycloak_admin, realm, BROWSER)[1] == (
            0, "identity-provider-redirector", "DISABLED")
        assert flow_id(keycloak_admin, realm, BROWSER) == before
    finally:
        apply(keycloak_admin, load(realm))
    assert steps(keycloak_admin, realm, BROWSER)[1][2] == "ALTERNATIVE"


def test_steps_added_removed_and_reordered_keep_the_flow(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    before = flow_id(keycloak_admin, realm, "idpack password check")
    reordered = overlay(tmp_path, """
authenticationFlows:
  idpack password check:
    executions:
      - {authenticator: direct-grant-validate-password, requirement: REQUIRED}
      - {authenticator: direct-grant-validate-username, requirement: REQUIRED}
      - {authenticator: direct-grant-validate-otp, requirement: DISABLED}
""")
    try:
        [change] = plan(keycloak_admin, load(realm, reordered)).changes
        assert change.fields[0].path == "executions"
        assert change.fields[0].after == ["direct-grant-validate-password: REQUIRED",
                                          "direct-grant-validate-username: REQUIRED",
                                          "direct-grant-validate-otp: DISABLED"]

        apply(keycloak_admin, load(realm, reordered))

        assert steps(keycloak_admin, realm, "idpack password check") == [
            (0, "direct-grant-validate-password", "REQUIRED"),
            (0, "direct-grant-validate-username", "REQUIRED"),
            (0, "direct-grant-validate-otp", "DISABLED")]
        assert plan(keycloak_admin, load(realm, reordered)).empty
        assert flow_id(keycloak_admin, realm, "idpack password check") == before
    finally:
        apply(keycloak_admin, load(realm))
    assert len(steps(keycloak_admin, realm, "idpack password check")) == 3
    assert flow_id(keycloak_admin, realm, "idpack password check") == before


def test_drift_made_in_keycloak_is_found_and_repaired(keycloak_admin: KeycloakAdminClient,
                                                     realm: str) -> None:
    api = keycloak_admin.realm(realm)
    otp = next(e for e in api.flow_executions(SETUP) if e.get("providerId") == "auth-otp-form")
    api.update_execution(SETUP, {**otp, "requirement": "ALTERNATIVE"})  # "2FA optional"
    api.add_execution(FORMS, "auth-cookie")
    api.update({"browserFlow": "browser"})

    drift = plan(keycloak_admin, load(realm))

    assert {(c.kind, c.name) for c in drift.changes} == {
        ("authentication flow", BROWSER), ("flow binding", f"realm {realm}")}
    paths = {f.path for c in drift.changes for f in c.fields}
    assert paths == {f"{FORMS} > executions", f"{FORMS} > {SETUP} > auth-otp-form.requirement",
                     "browserFlow"}
    apply(keycloak_admin, load(realm))
    assert plan(keycloak_admin, load(realm)).empty
    assert steps(keycloak_admin, realm, SETUP)[1] == (0, "auth-otp-form", "REQUIRED")
    assert [step for step in steps(keycloak_admin, realm, FORMS) if step[0] == 0] == [
        (0, "auth-username-password-form", "REQUIRED"), (0, f"flow {SECOND}", "CONDITIONAL"),
        (0, f"flow {SETUP}", "CONDITIONAL")]


def test_prune_deletes_undeclared_flows_but_never_a_built_in_or_a_bound_one(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    api.create_flow({"alias": "stray", "providerId": "basic-flow", "topLevel": True,
                     "builtIn": False, "description": "made in the console"})

    result = plan(keycloak_admin, load(realm))

    assert [(c.kind, c.name, c.action) for c in result.changes] == [
        ("authentication flow", "stray", "delete")]
    apply(keycloak_admin, load(realm))
    assert "stray" not in {f["alias"] for f in api.flows()}
    assert {"browser", "direct grant", "registration", "first broker login"} <= {
        f["alias"] for f in api.flows()}

    api.create_flow({"alias": "stray bound", "providerId": "basic-flow", "topLevel": True,
                     "builtIn": False, "description": ""})
    api.update({"registrationFlow": "stray bound"})  # a binding the file leaves alone
    try:
        with pytest.raises(ConfigError, match=r"'stray bound' is not declared.*"
                                              r"settings\.registrationFlow uses it"):
            plan(keycloak_admin, load(realm))
    finally:
        api.update({"registrationFlow": "registration"})
        api.delete_flow(flow_id(keycloak_admin, realm, "stray bound"))


def test_a_built_in_flow_is_tuned_but_takes_no_other_steps(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    other_steps = overlay(tmp_path, """
authenticationFlows:
  direct grant:
    executions:
      - {authenticator: direct-grant-validate-username, requirement: REQUIRED}
""")

    with pytest.raises(ConfigError, match="'direct grant' is built into Keycloak"):
        plan(keycloak_admin, load(realm, other_steps))
