"""The stack of `make run` with one more overlay for these tests, and the steps they share:
calling the running sidecar, creating PASSWORD users through createNewUser, and a
PASSWORD user's first login (TOTP set-up and email verification) in Chromium.

The overlay switches Google and Microsoft on with dummy client ids and secrets (their
buttons show; nothing ever reaches Google or Microsoft), and adds a client only the
tests use, to get a user's token by password and TOTP code with the sidecar as its
audience (the portal uses the browser flow and keeps its tokens to itself)."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
import requests
from playwright.sync_api import Page, expect

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import client_credentials_token, token_endpoint
from idpack.keycloak.target import KeycloakTarget
from tests.e2e.browser import Screenshots
from tests.e2e.mail import short_link_in, wait_for_mails
from tests.e2e.stack import Stack, running_stack
from tests.support.eventually import eventually
from tests.support.realm import token_client

PASSWORD = "Blue-Kettle-42!"
TESTS_CLIENT = "accounts-tests"
TESTS_CLIENT_SECRET = "accounts-tests-secret-5c2e"  # a client only these tests have
# Dummy OAuth apps: enough for Keycloak to show the buttons and build the redirects.
PROVIDER_ENV = {
    "GOOGLE_CLIENT_ID": "dummy-idpack-tests.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "dummy-google-secret",
    "MICROSOFT_CLIENT_ID": "00000000-0000-4000-8000-0000000000e2",
    "MICROSOFT_CLIENT_SECRET": "dummy-microsoft-secret",
}
OVERLAY = """
# tests/e2e/accounts: merged over mikrocloud.yaml and environments/dev.yaml
identityProviders:
  google: {enabled: true}        # dev.yaml reads the client ids from the environment
  microsoft: {enabled: true}
clients:""" + token_client("accounts-tests", "ACCOUNTS_TESTS_SECRET") + "\n"


@pytest.fixture(scope="package")
def stack(keycloak: KeycloakTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`idpack up` with the dev overlay and this package's own."""
    folder = tmp_path_factory.mktemp("accounts")
    overlay = folder / "accounts.yaml"
    overlay.write_text(OVERLAY)
    with running_stack(keycloak, folder, overlays=["dev", str(overlay)],
                       env={**PROVIDER_ENV, "ACCOUNTS_TESTS_SECRET": TESTS_CLIENT_SECRET}
                       ) as running:
        yield running


# The running sidecar

def service_secret(stack: Stack) -> str:
    """example-service's secret as `idpack up` gave it to the realm: the environment's
    if set, else the one it generated into .idpack/secrets/ (idpack.stack.realm_environment)."""
    return os.environ.get("EXAMPLE_SERVICE_CLIENT_SECRET") or (
        stack.home / "secrets" / "example_service_client_secret").read_text().strip()


def service_token(stack: Stack) -> str:
    """A SERVICE token: example-service's client credentials."""
    response = client_credentials_token(stack.keycloak_url, stack.realm, "example-service",
                                        service_secret(stack))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def rpc(stack: Stack, method: str, path: str, token: str | None,
        body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{stack.sidecar_url}{path}", headers=headers,
                            json=body, timeout=30, allow_redirects=False)


@dataclass(frozen=True)
class PasswordUser:
    username: str
    email: str
    user_id: str
    first_name: str
    password: str = PASSWORD


def create_password_user(stack: Stack, token: str, name: str,
                         role: str | None = None) -> PasswordUser:
    """createNewUser (POST /auth/users/register) of one PASSWORD user."""
    username = f"{name}-{secrets.token_hex(3)}"
    email = f"{username}@example.org"
    response = rpc(stack, "POST", "/auth/users/register", token, [
        {"username": username, "password": PASSWORD, "email": email, "role": role,
         "firstnames": name.title(), "lastname": "Jensen", "orgId": None}])
    assert response.status_code == 200, response.text
    [created] = response.json()
    assert created["username"] == username
    return PasswordUser(username, email, str(created["userId"]), name.title())


def lookup_role(stack: Stack, token: str, username: str,
                role: str | None = None) -> dict[str, Any]:
    """lookupUsers' answer for one user, once it shows (with `role`, if given): a role
    given through the Admin API shows within the sidecar's lag (tests/support/eventually)."""
    response = eventually(
        lambda: rpc(stack, "POST", "/auth/users/lookup", token, {"users": [username]}),
        lambda answer: answer.status_code != 200 or (
            (found := answer.json()["results"][username]) is not None
            and role in (None, found["role"])))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["results"][username]
    return answer


# TOTP

@dataclass
class Authenticator:
    """The user's authenticator app: pyotp with the realm's OTP policy and the secret
    Keycloak showed. Keycloak accepts each code once, so a new login waits for a code
    not used before."""

    totp: pyotp.TOTP
    used: set[str]

    @classmethod
    def for_realm(cls, admin: KeycloakAdminClient, stack: Stack, secret: str) -> Authenticator:
        realm = admin.realm(stack.realm).get()
        assert realm.get("otpPolicyType", "totp") == "totp", realm.get("otpPolicyType")
        digest = str(realm.get("otpPolicyAlgorithm", "HmacSHA1")).removeprefix("Hmac").lower()
        return cls(pyotp.TOTP(secret, digits=int(realm.get("otpPolicyDigits", 6)),
                              digest=digest, interval=int(realm.get("otpPolicyPeriod", 30))),
                   set())

    def code(self, seconds: float = 40) -> str:
        deadline = time.monotonic() + seconds
        while (code := self.totp.now()) in self.used:
            assert time.monotonic() < deadline, "no new TOTP code"
            time.sleep(0.5)
        self.used.add(code)
        return code

    def wrong_code(self) -> str:
        """A code of the right form that no nearby time step gives."""
        near = {self.totp.at(time.time() + step * self.totp.interval) for step in range(-2, 3)}
        return next(c for c in ("000000", "111111", "123456") if c not in near)


# The hosted pages

def at_portal(page: Page, stack: Stack) -> bool:
    return re.fullmatch(re.escape(stack.portal_url) + r"/?", page.url.split("?")[0]) is not None


def sign_in(page: Page, stack: Stack, user: PasswordUser) -> None:
    """The portal's /login to Keycloak's login page, with username and password."""
    page.goto(f"{stack.portal_url}/login")
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", user.password)
    page.locator("#kc-login").click()
    page.wait_for_load_state()


def set_up_totp(page: Page, stack: Stack, admin: KeycloakAdminClient,
                shots: Screenshots | None) -> Authenticator:
    """Keycloak's "Mobile Authenticator Setup" page: show the secret as text ("Unable to
    scan?"), refuse a wrong code, accept the right one."""
    if shots:
        shots.take(page, "totp setup page")
    page.get_by_role("link", name="Unable to scan?").click()
    secret_text = page.locator("#kc-totp-secret-key")
    expect(secret_text).to_be_visible()
    if shots:
        shots.take(page, "totp setup secret as text")
    secret = re.sub(r"\s+", "", secret_text.inner_text())  # shown in groups of four
    authenticator = Authenticator.for_realm(admin, stack, secret)

    page.fill("input[name=totp]", authenticator.wrong_code())
    page.locator("#saveTOTPBtn").click()
    expect(page.get_by_text("Invalid authenticator code.")).to_be_visible()
    assert not at_portal(page, stack)

    page.fill("input[name=totp]", authenticator.code())
    if page.locator("input[name=userLabel]").count():
        page.fill("input[name=userLabel]", "pyotp")
    page.locator("#saveTOTPBtn").click()
    page.wait_for_load_state()
    return authenticator


def verify_email(page: Page, stack: Stack, user: PasswordUser,
                 shots: Screenshots | None) -> None:
    """Keycloak's verify-email page: the relay's mail, its short link, opened in the same
    browser (it carries on with the login)."""
    expect(page.get_by_role("link", name="Resend Verification Email")).to_be_visible()
    if shots:
        shots.take(page, "verify email")
    [raw] = wait_for_mails(stack, user.email, 1)
    page.goto(short_link_in(stack, raw))
    page.wait_for_load_state()


def first_login(page: Page, stack: Stack, user: PasswordUser, admin: KeycloakAdminClient,
                shots: Screenshots | None = None) -> Authenticator:
    """A new PASSWORD user's first login through the portal: every required action
    Keycloak puts in the way (TOTP set-up, email verification; in the realm's order),
    until the portal. The portal is never reached without the TOTP set-up."""
    sign_in(page, stack, user)
    authenticator: Authenticator | None = None
    seen: list[str] = []
    deadline = time.monotonic() + 180
    while not at_portal(page, stack):
        assert time.monotonic() < deadline, (seen, page.url, page.content())
        if page.locator("#kc-totp-secret-qr-code, #kc-totp-secret-key").count():
            assert "totp" not in seen, "the TOTP set-up came twice"
            seen.append("totp")
            authenticator = set_up_totp(page, stack, admin, shots)
        elif page.locator("#mc-resend-verification-email").count():
            assert "verify-email" not in seen, "the verify-email page came twice"
            seen.append("verify-email")
            verify_email(page, stack, user, shots)
        elif page.get_by_role("link", name=re.compile("Back to Application|proceed",
                                                      re.IGNORECASE)).count():
            seen.append("info")  # "Your email address has been verified", and a link on
            page.get_by_role("link", name=re.compile("Back to Application|proceed",
                                                     re.IGNORECASE)).first.click()
            page.wait_for_load_state()
        else:
            time.sleep(0.3)
    assert {"totp", "verify-email"} <= set(seen), seen
    assert authenticator is not None
    expect(page.get_by_text(user.email)).to_be_visible()
    return authenticator


def user_token(stack: Stack, user: PasswordUser, code: str | None) -> requests.Response:
    """The token response of a password grant with the TOTP code (Keycloak's direct grant
    flow asks for it as `totp` once the user has an OTP credential)."""
    form = {"grant_type": "password", "client_id": TESTS_CLIENT,
            "client_secret": TESTS_CLIENT_SECRET, "username": user.username,
            "password": user.password, "scope": "openid"}
    if code is not None:
        form["totp"] = code
    return requests.post(token_endpoint(stack.keycloak_url, stack.realm), data=form, timeout=30)
