"""The MikroCloud portal against the real Keycloak and the real sidecar: sign-in with
PKCE, registration, the profile page, the email-verification gate, expiry and logout."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from extensions.portal.app import create_app
from extensions.portal.context import SESSION_ID
from idpack.keycloak.oidc import issuer
from tests.support.portal import Browser, PortalStack, visible_text
from tests.support.redis_server import running_redis
from tests.support.sidecar import PASSWORD

T = TypeVar("T")


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def test_visitor_who_is_not_signed_in_sees_sign_in_and_create_account(
        stack: PortalStack) -> None:
    page = Browser().get(stack.portal_url)

    assert page.status_code == 200
    text = visible_text(page)
    assert "Sign in" in text
    assert "Create account" in text
    assert 'href="/login"' in page.text
    assert 'href="/register"' in page.text


def test_sign_in_uses_the_code_flow_with_pkce_state_and_nonce(stack: PortalStack) -> None:
    answer = Browser().get(f"{stack.portal_url}/login", follow=False)

    assert answer.status_code == 302
    location = answer.headers["Location"]
    endpoint = f"{issuer(stack.realm.keycloak.url, stack.realm.name)}/protocol/openid-connect/auth"
    assert location.startswith(endpoint + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "portal"
    assert query["redirect_uri"] == f"{stack.portal_url}/callback"
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert query["state"]
    assert query["nonce"]


def test_signed_in_user_sees_their_names_email_country_and_timezone(
        stack: PortalStack) -> None:
    username = unique("karen")
    stack.realm.user(username, firstName="Karen Christence", lastName="Blixen",
                     attributes={"country": ["DK"], "timezone": ["Europe/Copenhagen"]})
    browser = Browser()

    page = browser.sign_in(stack.portal_url, username, PASSWORD)

    assert page.status_code == 200, visible_text(page)
    assert page.url == f"{stack.portal_url}/"
    text = visible_text(page)
    for shown in ("Karen Christence", "Blixen", f"{username}@example.org", "DK",
                  "Europe/Copenhagen"):
        assert shown in text
    # Browsers drop cookies over 4 KB: the session with both tokens must fit.
    session_cookie = browser.http.cookies.get("mikrocloud_portal")
    assert session_cookie is not None
    assert len("mikrocloud_portal=" + session_cookie) < 4000
    assert "Sign out" in text


def test_callback_with_a_state_the_portal_never_issued_is_refused(stack: PortalStack) -> None:
    browser = Browser()
    browser.get(f"{stack.portal_url}/login")  # an attempt of its own is under way

    page = browser.get(f"{stack.portal_url}/callback?code=forged&state=forged")

    assert page.status_code == 400
    assert "Sign-in did not complete" in visible_text(page)
    assert "Sign in" in visible_text(browser.get(stack.portal_url))


def test_user_with_unverified_email_is_held_at_keycloaks_verify_email_page(
        stack: PortalStack) -> None:
    username = unique("ulla")
    stack.realm.user(username, verified=False)
    browser = Browser()

    page = browser.sign_in(stack.portal_url, username, PASSWORD)

    assert page.status_code == 200, visible_text(page)
    assert page.url.startswith(stack.realm.keycloak.url)  # never sent back to the portal
    assert not any(r.url.startswith(stack.portal_url) for r in page.history)
    assert "verify your email" in visible_text(page).lower()
    assert _wait_for(lambda: stack.mail.to(f"{username}@example.org"))
    assert "Create account" in visible_text(browser.get(stack.portal_url))


def test_portal_refuses_an_id_token_without_verified_email(stack: PortalStack) -> None:
    # Keycloak normally stops such users (previous test); with the realm's email
    # verification switched off it lets them through, and the portal must not.
    username = unique("victor")
    stack.realm.user(username, verified=False)
    stack.realm.api.update({"verifyEmail": False})
    try:
        browser = Browser()
        page = browser.sign_in(stack.portal_url, username, PASSWORD)
    finally:
        stack.realm.api.update({"verifyEmail": True})

    assert page.status_code == 403
    assert page.url.startswith(f"{stack.portal_url}/callback")
    text = visible_text(page)
    assert "Verify your email address first" in text
    assert f"{username}@example.org is not verified yet" in text
    assert "Create account" in visible_text(browser.get(stack.portal_url))


def test_new_user_registers_verifies_the_email_and_lands_on_the_profile(
        stack: PortalStack) -> None:
    username = unique("nina")
    email = f"{username}@example.org"
    browser = Browser()

    redirect = browser.get(f"{stack.portal_url}/register", follow=False)
    registration_endpoint = (f"{issuer(stack.realm.keycloak.url, stack.realm.name)}"
                             "/protocol/openid-connect/registrations?")
    assert redirect.headers["Location"].startswith(registration_endpoint)
    assert "code_challenge_method=S256" in redirect.headers["Location"]
    # With verifyEmail on, Keycloak 26 asks for the password only after the email is
    # verified (its UPDATE_PASSWORD step), so the registration form has no password.
    form = browser.get(redirect.headers["Location"])
    verify_page = browser.submit(form, "email", username=username, email=email,
                                 firstName="Nina", lastName="Hansen")

    assert verify_page.status_code == 200, visible_text(verify_page)
    assert verify_page.url.startswith(stack.realm.keycloak.url)
    assert "verify your email" in visible_text(verify_page).lower()
    messages = _wait_for(lambda: stack.mail.to(email))
    assert messages, "Keycloak sent no verification mail"
    body = messages[-1].get_body(preferencelist=("plain", "html"))
    assert body is not None
    link = re.search(r"https?://\S+/login-actions/action-token\?[^\s\"<>]+",
                     body.get_content())
    assert link is not None, body.get_content()
    password_page = browser.get(unescape(link.group(0)))
    profile = browser.submit(password_page, "password-new", **{
        "password-new": PASSWORD, "password-confirm": PASSWORD})

    assert profile.url == f"{stack.portal_url}/", visible_text(profile)
    text = visible_text(profile)
    for shown in ("Nina", "Hansen", email):
        assert shown in text


def test_expired_access_token_sends_the_user_through_sign_in_again(
        stack: PortalStack) -> None:
    username = unique("erik")
    stack.realm.user(username, firstName="Erik")
    browser = Browser()
    assert "Erik" in visible_text(
        browser.sign_in(stack.short_lived_portal_url, username, PASSWORD))

    time.sleep(3)  # the portal-short-lived client's access tokens live 2 seconds
    answer = browser.get(stack.short_lived_portal_url, follow=False)

    assert (answer.status_code, answer.headers["Location"]) == (302, "/login")
    # Keycloak's session is still alive: no password asked, straight back to the profile.
    again = browser.get(f"{stack.short_lived_portal_url}/login")
    assert again.url == f"{stack.short_lived_portal_url}/"
    assert "Erik" in visible_text(again)


def test_logout_ends_the_portal_and_the_keycloak_session(stack: PortalStack) -> None:
    username = unique("lars")
    user_id = stack.realm.user(username)
    browser = Browser()
    profile = browser.sign_in(stack.portal_url, username, PASSWORD)
    assert len(stack.realm.api.user_sessions(user_id)) == 1

    page = browser.submit(profile, "csrf_token")  # the Sign out button

    assert page.url.split("?")[0] == f"{stack.portal_url}/"  # Keycloak adds its state
    assert "Create account" in visible_text(page)
    assert stack.realm.api.user_sessions(user_id) == []
    # Signing in again asks for the password: Keycloak has forgotten the user too.
    assert browser.get(f"{stack.portal_url}/login").url.startswith(stack.realm.keycloak.url)


def test_healthz_answers(stack: PortalStack) -> None:
    answer = Browser().get(f"{stack.portal_url}/healthz")

    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def _wait_for(probe: Callable[[], T], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_while_redis_is_away_a_signed_in_page_is_a_503_that_says_to_retry(
        stack: PortalStack, tmp_path: Path) -> None:
    with running_redis(tmp_path) as redis:
        portal = create_app(stack.settings(store=redis.url)).test_client()
        with portal.session_transaction() as cookie:
            cookie[SESSION_ID] = "a-session-kept-in-redis"
        redis.stop()

        away = portal.get("/")
        health = portal.get("/readyz")

    assert away.status_code == 503
    assert away.headers["Retry-After"] == "30"
    text = away.get_data(as_text=True)
    assert "try again in a minute" in text.lower()
    assert "Traceback" not in text
    assert health.status_code == 503
    assert health.json == {"status": "unavailable", "store": "unavailable"}
