"""Security 2: a PASSWORD user cannot get rid of the second factor.

The account API lets a user delete their own TOTP credential (Keycloak allows it).
With Keycloak's default browser flow, whose code step is conditional on the user
having one, the next sign-in then needed the password alone. The realm's own browser
flow asks every password sign-in for a code, so the user must set one up again."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Browser, expect

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import account_api
from tests.e2e.accounts.conftest import (
    at_portal,
    create_password_user,
    first_login,
    service_token,
    sign_in,
    user_token,
)
from tests.e2e.browser import Screenshots
from tests.e2e.stack import Stack

pytestmark = pytest.mark.security


def test_a_user_who_deletes_their_totp_must_set_one_up_again(
        browser: Browser, stack: Stack, keycloak_admin: KeycloakAdminClient) -> None:
    shots = Screenshots("second-factor-kept")
    api = keycloak_admin.realm(stack.realm)
    user = create_password_user(stack, service_token(stack), "otto")
    first = browser.new_context()
    authenticator = first_login(first.new_page(), stack, user, keycloak_admin)
    first.close()

    # The user's own token deletes the user's own TOTP credential: Keycloak allows it.
    token = user_token(stack, user, authenticator.code()).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    [otp] = [c["id"] for c in api.credentials(user.user_id) if c["type"] == "otp"]
    deleted = requests.delete(f"{account_api(stack.keycloak_url, stack.realm)}/credentials/{otp}",
                              headers=headers, timeout=30)
    assert deleted.status_code == 204, deleted.text
    assert {c["type"] for c in api.credentials(user.user_id)} == {"password"}

    again = browser.new_context()
    page = again.new_page()
    sign_in(page, stack, user)

    expect(page.locator("#kc-totp-secret-qr-code, #kc-totp-secret-key").first).to_be_visible()
    shots.take(page, "sign-in after deleting totp asks to set it up")
    assert not at_portal(page, stack)
    page.goto(stack.portal_url)  # no way around it: the portal has no session
    expect(page.get_by_text(user.email)).to_have_count(0)
    again.close()
