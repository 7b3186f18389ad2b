"""Sign-up through GitHub in Chromium: Keycloak's own GitHub provider, pointed by its
`baseUrl` and `apiUrl` settings at the fake GitHub (tests/fakes/github.py)."""

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
from tests.fakes.github import FakeGitHub, GitHubUser
from tests.support.geo_database import DENMARK

SEED_SCOPES = "openid user email"  # the seed: GitHub is asked for openid, user, email


def test_sign_up_through_github_verify_the_email_and_land_in_the_portal(
        browser: Browser, stack: Stack, fake_github: FakeGitHub,
        realm_api: RealmAdmin) -> None:
    shots = Screenshots("github-signup")
    tag = secrets.token_hex(3)
    octocat = GitHubUser(login=f"grace-{tag}", name="Grace Hopper",
                         email=f"grace-{tag}@example.org")
    fake_github.sign_in(octocat)
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    page = context.new_page()
    started = time.monotonic()

    open_hosted_login(page, stack, shots)
    page.locator("#social-github").click()
    page.wait_for_url(re.compile(re.escape(fake_github.url) + "/login/oauth/authorize"))
    expect(page.get_by_text(octocat.login)).to_be_visible()
    shots.take(page, "github authorize")
    page.get_by_role("button", name="Authorize").click()

    finish_first_login(page, stack, octocat.email, shots)
    expect(page.get_by_text("Grace", exact=True)).to_be_visible()
    expect(page.get_by_text("Hopper", exact=True)).to_be_visible()
    elapsed = time.monotonic() - started
    context.close()

    # What Keycloak asked GitHub for, and how it fetched the profile.
    assert fake_github.scopes_asked_by(octocat) == [SEED_SCOPES]
    asked = fake_github.authorize_requests[-1]
    assert asked.scope == SEED_SCOPES
    assert asked.redirect_uri == f"{stack.keycloak_url}/realms/{stack.realm}/broker/github/endpoint"
    redeemed = fake_github.token_requests[-1]
    assert redeemed.client_auth == "client_secret_post"
    assert redeemed.form["redirect_uri"] == asked.redirect_uri
    assert fake_github.api_requests[-2:] == ["/user", "/user/emails"]  # the email is private

    user = user_with_place(realm_api, octocat.email)
    assert user["firstName"] == "Grace"
    assert user["lastName"] == "Hopper"
    assert user["email"] == octocat.email
    assert user["emailVerified"] is True
    assert user["username"] == octocat.login
    attributes = user["attributes"]
    assert attributes["picture"] == [octocat.avatar_url]
    assert attributes["country"] == ["DK"]
    assert attributes["timezone"] == ["Europe/Copenhagen"]
    [link] = federated_identities(realm_api, user["id"])
    assert (link["identityProvider"], link["userId"], link["userName"]) == (
        "github", str(octocat.id), octocat.login)
    assert not realm_api.credentials(user["id"])  # no password: GitHub is how they sign in
    print(f"GitHub sign-up in the browser: {elapsed:.1f} s")
