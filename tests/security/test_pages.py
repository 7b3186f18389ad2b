"""Security 10: the portal's and the sidecar's pages, and the sidecar's tokens.

Signing out was a GET any page could trigger; a session cookie copied before signing
out still worked until its token expired; no page forbade framing or set a Content
Security Policy; and the sidecar took an ID token that named it as audience."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
import requests
from flask.testing import FlaskClient

from idpack.keycloak.oidc import password_grant, unverified_claims
from tests.security.conftest import ID_TOKEN_CLIENT
from tests.support.portal import Browser, PortalStack, visible_text
from tests.support.sidecar import PASSWORD, TEST_CLIENT_SECRET, SidecarRealm, bearer

pytestmark = pytest.mark.integration


def signed_in(portal: PortalStack) -> tuple[Browser, requests.Response, str]:
    name = f"sam-{secrets.token_hex(3)}"
    user_id = portal.realm.user(name)
    browser = Browser()
    profile = browser.sign_in(portal.portal_url, name, PASSWORD)
    assert "Sign out" in visible_text(profile)
    return browser, profile, user_id


def test_a_link_to_logout_only_asks(portal: PortalStack) -> None:
    browser, _, user_id = signed_in(portal)

    page = browser.get(f"{portal.portal_url}/logout")  # what a foreign page's <img> does

    assert "Sign out of MikroCloud?" in visible_text(page)
    assert "Sign out" in visible_text(browser.get(portal.portal_url))  # still signed in
    assert len(portal.realm.api.user_sessions(user_id)) == 1


def test_a_sign_out_without_the_pages_token_is_refused(portal: PortalStack) -> None:
    browser, _, user_id = signed_in(portal)

    forged = browser.http.post(f"{portal.portal_url}/logout", data={"csrf_token": "guess"},
                               timeout=10)
    bare = browser.http.post(f"{portal.portal_url}/logout", timeout=10)

    assert (forged.status_code, bare.status_code) == (400, 400)
    assert "Sign out" in visible_text(browser.get(portal.portal_url))
    assert len(portal.realm.api.user_sessions(user_id)) == 1


def test_a_session_cookie_copied_before_sign_out_opens_nothing(portal: PortalStack) -> None:
    browser, profile, _ = signed_in(portal)
    copied = browser.http.cookies.get("mikrocloud_portal")
    assert copied is not None

    browser.submit(profile, "csrf_token")  # Sign out
    thief = requests.get(portal.portal_url, cookies={"mikrocloud_portal": copied}, timeout=10)

    assert "Create account" in visible_text(thief)
    assert "Sign out" not in visible_text(thief)


def test_the_cookie_holds_no_token(portal: PortalStack) -> None:
    browser, _, _ = signed_in(portal)
    cookie = browser.http.cookies.get("mikrocloud_portal")

    assert cookie is not None
    payload = cookie.split(".")[0]  # Flask's signed session: base64 JSON, a time, a MAC
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert list(content) == ["sid"]
    assert len(content["sid"]) >= 43  # 256 random bits


def test_every_page_forbids_framing_and_foreign_content(portal: PortalStack) -> None:
    browser, _, _ = signed_in(portal)
    pages = [browser.get(portal.portal_url), Browser().get(portal.portal_url),
             browser.get(f"{portal.portal_url}/logout"),
             requests.get(f"{portal.sidecar_url}/s/{'A' * 16}", timeout=10),
             requests.get(f"{portal.sidecar_url}/docs", timeout=10)]

    for page in pages:
        policy = page.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy, page.url
        assert "default-src 'self'" in policy, page.url
        assert "unsafe-inline" not in policy, page.url
        assert page.headers.get("X-Frame-Options") == "DENY", page.url
        assert page.headers.get("X-Content-Type-Options") == "nosniff", page.url
        assert "<style>" not in page.text, page.url
        assert "<script>" not in page.text, page.url


def test_the_sidecar_refuses_an_id_token(sidecar_realm: SidecarRealm,
                                         client: FlaskClient) -> None:
    name = f"ida-{secrets.token_hex(3)}"
    sidecar_realm.user(name)
    tokens = password_grant(sidecar_realm.keycloak.url, sidecar_realm.name, ID_TOKEN_CLIENT,
                            TEST_CLIENT_SECRET, name, PASSWORD).json()
    claims = unverified_claims(tokens["id_token"])
    assert "idpack-sidecar" in claims["aud"]
    assert "USER" in claims["realm_access"]["roles"]
    assert claims["email_verified"] is True

    with_id_token = client.get("/auth/users/userInfo", headers=bearer(tokens["id_token"]))
    with_access_token = client.get("/auth/users/userInfo",
                                   headers=bearer(tokens["access_token"]))

    assert with_id_token.status_code == 401
    assert with_access_token.status_code == 200
