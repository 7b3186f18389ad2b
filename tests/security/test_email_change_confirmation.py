"""Security 2-5: an email change is confirmed by a button, never by fetching the link.

A plain GET of the sidecar's verifyUserInfo link, or of Keycloak's "Update email" link,
applied the change; mail scanners fetch links on delivery, so asking for a colleague's
address was enough to own it, verified. Now the GET shows a page naming the account
and the new address with a button, and only its POST changes anything. Keycloak's link
reaches the user as one of the relay's short links (its page is the sidecar's); Keycloak
itself applies the change on GET, which no theme or flow setting can stop."""

from __future__ import annotations

import re
import secrets
import time
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.context import STORE
from idpack.store.short_links import ShortLinkStore
from tests.security.hosted import fill, mail_link, start
from tests.support.portal import Browser
from tests.support.sidecar import PASSWORD, SidecarRealm, bearer
from tests.support.smtp_peer import Received

pytestmark = pytest.mark.integration


def test_the_sidecars_link_asks_before_it_changes_the_address(
        sidecar_realm: SidecarRealm, client: FlaskClient, mail: tuple[int, Received]) -> None:
    name = f"gerd-{secrets.token_hex(3)}"
    user_id = sidecar_realm.user(name)
    wanted = f"colleague-{secrets.token_hex(3)}@example.org"
    asked = client.post("/auth/users/updateUserInfo", headers=bearer(sidecar_realm.token(name)),
                        json={"email": wanted})
    assert asked.status_code == 204
    [message] = mail[1].to(wanted)
    found = re.search(r"http://sidecar\.test(/auth/users/verifyUserInfo\?id=\S+)",
                      message.get_content())
    assert found

    fetched = client.get(found.group(1))  # what a mail scanner does

    assert fetched.status_code == 200
    page = fetched.get_data(as_text=True)
    assert name in page
    assert wanted in page
    assert 'method="post"' in page
    assert sidecar_realm.api.user(user_id)["email"] == f"{name}@example.org"

    token = re.search(r'name="id" value="([^"]+)"', page)
    assert token
    confirmed = client.post("/auth/users/verifyUserInfo", data={"id": unescape(token.group(1))})

    assert (confirmed.status_code, confirmed.location) == (302, "http://portal.test/?success=true")
    user = sidecar_realm.api.user(user_id)
    assert (user["email"], user["emailVerified"]) == (wanted, True)


def keycloak_update_email_link(realm: SidecarRealm, mail: Received, name: str,
                               code: str, wanted: str) -> str:
    """The account console's "Update email", as the user asks for it: Keycloak mails
    the new address a link."""
    browser = Browser()
    login = start(browser, realm.keycloak.url, realm.name, kc_action="UPDATE_EMAIL")
    asked = fill(browser, login, "username", username=name, password=PASSWORD)
    form = fill(browser, asked.page, "otp", otp=code)
    fill(browser, form.page, "email", email=wanted)
    return mail_link(mail, wanted, 1)


def test_keycloaks_link_asks_on_the_short_link_before_anything_changes(
        sidecar_realm: SidecarRealm, app: Flask, client: FlaskClient,
        mail: tuple[int, Received]) -> None:
    name = f"hugo-{secrets.token_hex(3)}"
    user_id, authenticator = sidecar_realm.user_with_totp(name)
    wanted = f"boss-{secrets.token_hex(3)}@example.org"
    target = keycloak_update_email_link(sidecar_realm, mail[1], name, authenticator.now(),
                                        wanted)
    assert urlsplit(target).hostname in ("127.0.0.1", "localhost")
    code = ShortLinkStore(app.extensions[STORE]).create(target, time.time() + 300).code

    fetched = client.get(f"/s/{code}")  # the relay's short link, fetched by a scanner

    assert fetched.status_code == 200
    page = fetched.get_data(as_text=True)
    assert name in page
    assert wanted in page
    assert 'method="post"' in page
    assert target not in page
    assert sidecar_realm.api.user(user_id)["email"] == f"{name}@example.org"

    confirmed = client.post(f"/s/{code}")

    assert confirmed.status_code == 303
    assert confirmed.location == target
    requests.get(target, timeout=10)  # the browser follows it to Keycloak
    assert sidecar_realm.api.user(user_id)["email"] == wanted
