"""A login in progress survives an apply that changes the browser flow it runs in.

Chromium opens the sign-in page; `idpack realm apply` then adds a conditional OTP
sub-flow to the bound browser flow (changed in place, keeping its id); the user, who
has no OTP, submits the page already open and is signed in. Tools that delete and
make a bound flow again break exactly this: the page's session points at a flow that
is gone."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Route

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from provisioning.config import LoadedConfig
from tests.e2e.browser import Screenshots
from tests.support.realm import apply, realm_from, written

PASSWORD = "Walk-In-2026!"
APP = "http://127.0.0.1:9/app"  # never reached: the test answers for it
FORMS = """
      - flowAlias: inflight forms
        requirement: ALTERNATIVE
        executions:
          - {{authenticator: auth-username-password-form, requirement: REQUIRED}}"""
CONDITIONAL_OTP = """
          - flowAlias: inflight conditional otp
            requirement: CONDITIONAL
            executions:
              - {{authenticator: conditional-user-configured, requirement: REQUIRED}}
              - {{authenticator: auth-otp-form, requirement: REQUIRED}}"""
REALM_FILE = """
realm: {realm}
settings: {{enabled: true, browserFlow: inflight browser}}
authenticationFlows:
  inflight browser:
    executions:
      - {{authenticator: auth-cookie, requirement: ALTERNATIVE}}
      - {{authenticator: identity-provider-redirector, requirement: ALTERNATIVE}}""" + FORMS + """
clients:
  inflight-app:
    publicClient: true
    standardFlowEnabled: true
    redirectUris: ["{app}"]
users:
  walker:
    enabled: true
    email: walker@example.org
    emailVerified: true
    firstName: Walker
    lastName: Inflight
    password: ${{env:WALKER_PASSWORD}}
"""


def loaded(path: Path, realm: str, text: str) -> LoadedConfig:
    return written(path, text.format(realm=realm, app=APP), {"WALKER_PASSWORD": PASSWORD},
                   realm)


def flow_id(admin: KeycloakAdminClient, realm: str) -> str:
    return str(next(f["id"] for f in admin.realm(realm).flows()
                    if f["alias"] == "inflight browser"))


@pytest.fixture
def realm(keycloak_admin: KeycloakAdminClient, tmp_path: Path) -> Iterator[str]:
    name = f"t-inflight-{secrets.token_hex(3)}"
    with realm_from(keycloak_admin, loaded(tmp_path / "realm.yaml", name, REALM_FILE)):
        yield name


def test_a_login_begun_before_a_flow_change_completes_after_it(
        browser: Browser, keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        realm: str, tmp_path: Path) -> None:
    shots = Screenshots("flow-change-in-flight")
    before = flow_id(keycloak_admin, realm)
    context = browser.new_context()
    page = context.new_page()

    def app(route: Route) -> None:
        route.fulfill(status=200, content_type="text/plain", body="signed in")

    page.route(re.compile(re.escape(APP) + ".*"), app)
    query = urlencode({"client_id": "inflight-app", "response_type": "code",
                       "scope": "openid", "redirect_uri": APP})
    page.goto(f"{keycloak.url}/realms/{realm}/protocol/openid-connect/auth?{query}")
    page.wait_for_selector("input[name=username]")
    shots.take(page, "sign-in page open")

    # The flow changes under the open page: a conditional OTP sub-flow is added.
    changed = REALM_FILE.replace(FORMS, FORMS + CONDITIONAL_OTP)
    apply(keycloak_admin, loaded(tmp_path / "changed.yaml", realm, changed))
    steps = [e["displayName"] for e in keycloak_admin.realm(realm).flow_executions(
        "inflight browser")]
    assert "inflight conditional otp" in steps
    assert flow_id(keycloak_admin, realm) == before  # changed in place

    page.fill("input[name=username]", "walker")
    page.fill("input[name=password]", PASSWORD)
    page.locator("[type=submit]").first.click()
    page.wait_for_url(re.compile(re.escape(APP) + r"\?.*code="))
    shots.take(page, "signed in after the change")
    context.close()
