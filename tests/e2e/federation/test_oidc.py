"""Sign-up through a further OpenID Connect provider in Chromium: the realm's
`example-oidc` provider (Keycloak's generic OIDC broker, PKCE S256, client_secret_post)
pointed at a local OpenID provider built with Authlib (tests/fakes/oidc_provider.py)."""

from __future__ import annotations

import re
import secrets
import time

from playwright.sync_api import Browser, expect

from idpack.keycloak.realm_admin import RealmAdmin
from tests.e2e.browser import Screenshots
from tests.e2e.federation import (
    federated_identities,
    finish_first_login,
    open_hosted_login,
    user_with_place,
)
from tests.e2e.stack import Stack
from tests.fakes.oidc_provider import FakeOidcProvider, OidcUser
from tests.support.geo_database import DENMARK


def test_sign_up_through_an_openid_provider_verify_the_email_and_land_in_the_portal(
        browser: Browser, stack: Stack, fake_oidc: FakeOidcProvider,
        realm_api: RealmAdmin) -> None:
    shots = Screenshots("oidc-signup")
    tag = secrets.token_hex(3)
    ada = OidcUser(given_name="Ada", family_name="Lovelace", email=f"ada-{tag}@example.org",
                   picture=f"https://id.example.org/pictures/ada-{tag}.png", locale="en")
    fake_oidc.sign_in(ada)
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    page = context.new_page()
    started = time.monotonic()

    open_hosted_login(page, stack, shots)
    page.locator("#social-example-oidc").click()
    page.wait_for_url(re.compile(re.escape(fake_oidc.issuer) + "/authorize"))
    expect(page.get_by_text(ada.email)).to_be_visible()
    shots.take(page, "provider consent")
    page.get_by_role("button", name="Allow").click()

    finish_first_login(page, stack, ada.email, shots)
    expect(page.get_by_text("Ada", exact=True)).to_be_visible()
    expect(page.get_by_text("Lovelace", exact=True)).to_be_visible()
    elapsed = time.monotonic() - started
    context.close()

    # How Keycloak used the provider: the code flow with PKCE (S256) and a nonce, the
    # realm's scopes, the code redeemed with its verifier and the secret in the form.
    asked = fake_oidc.authorization_requests[-1]
    assert asked["response_type"] == "code"
    assert asked["scope"] == "openid profile email"
    assert asked["code_challenge_method"] == "S256"
    assert asked["nonce"]
    assert asked["redirect_uri"] == (
        f"{stack.keycloak_url}/realms/{stack.realm}/broker/example-oidc/endpoint")
    redeemed = fake_oidc.token_requests[-1]
    assert redeemed["grant_type"] == "authorization_code"
    assert redeemed["code_verifier"]
    assert redeemed["client_id"] == fake_oidc.client.client_id  # client_secret_post

    user = user_with_place(realm_api, ada.email)
    assert user["firstName"] == "Ada"
    assert user["lastName"] == "Lovelace"
    assert user["email"] == ada.email
    assert user["emailVerified"] is True  # by our mail: the provider's claim is not trusted
    assert user["username"] == ada.preferred_username
    attributes = user["attributes"]
    assert attributes["picture"] == [ada.picture]
    assert attributes["locale"] == ["en"]
    assert attributes["country"] == ["DK"]
    assert attributes["timezone"] == ["Europe/Copenhagen"]
    [link] = federated_identities(realm_api, user["id"])
    assert (link["identityProvider"], link["userId"]) == ("example-oidc", ada.sub)
    assert not realm_api.credentials(user["id"])
    print(f"OpenID Connect sign-up in the browser: {elapsed:.1f} s")
