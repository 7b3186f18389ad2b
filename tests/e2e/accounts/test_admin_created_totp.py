"""UCloud's PASSWORD users: made by a service through the sidecar's createNewUser, they
must set up TOTP (and, MikroCloud, verify the email) at the first login on the hosted
pages before the portal opens, and every later login asks for the code."""

from __future__ import annotations

import time

from playwright.sync_api import Browser, expect

from idpack.keycloak.admin import KeycloakAdminClient
from tests.e2e.accounts.conftest import (
    create_password_user,
    first_login,
    service_token,
    sign_in,
)
from tests.e2e.browser import Screenshots
from tests.e2e.stack import Stack


def test_a_created_password_user_sets_up_totp_first_and_then_needs_the_code(
        browser: Browser, stack: Stack, keycloak_admin: KeycloakAdminClient) -> None:
    shots = Screenshots("admin-created-totp")
    api = keycloak_admin.realm(stack.realm)
    started = time.monotonic()
    user = create_password_user(stack, service_token(stack), "tove")
    before = api.user(user.user_id)
    assert set(before["requiredActions"]) == {"CONFIGURE_TOTP", "VERIFY_EMAIL"}
    assert before["emailVerified"] is False
    assert {c["type"] for c in api.credentials(user.user_id)} == {"password"}

    first = browser.new_context()
    page = first.new_page()
    authenticator = first_login(page, stack, user, keycloak_admin, shots)
    shots.take(page, "portal after first login")
    first.close()

    after = api.user(user.user_id)
    assert after["requiredActions"] == []
    assert after["emailVerified"] is True
    assert {c["type"] for c in api.credentials(user.user_id)} == {"password", "otp"}

    # A new browser, the same user: the password alone does not open the portal.
    second = browser.new_context()
    page = second.new_page()
    sign_in(page, stack, user)
    code_field = page.locator("input[name=otp]")
    expect(code_field).to_be_visible()
    shots.take(page, "login asks for the code")
    page.goto(stack.portal_url)  # no session yet: the portal's signed-out page
    expect(page.get_by_text(user.email)).to_have_count(0)

    sign_in(page, stack, user)
    page.fill("input[name=otp]", authenticator.wrong_code())
    page.locator("#kc-login").click()
    expect(page.get_by_text("Invalid authenticator code.")).to_be_visible()
    shots.take(page, "wrong code refused")
    page.fill("input[name=otp]", authenticator.code())
    page.locator("#kc-login").click()
    expect(page.get_by_text(user.email)).to_be_visible()
    expect(page.get_by_text(user.first_name, exact=True)).to_be_visible()
    assert page.url.startswith(stack.portal_url)
    shots.take(page, "portal after login with code")
    second.close()
    print(f"admin-created user, TOTP set-up and second login: {time.monotonic() - started:.1f} s")
