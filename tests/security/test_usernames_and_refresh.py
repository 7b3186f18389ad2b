"""Security 2-7 (usernames, refresh tokens): a username that looks like another one is
refused, and a refresh token works once.

Usernames with full-width letters, the "fi" ligature or a dotless "i" registered beside
the names they imitate; the realm now admits only names that are their own NFKC
skeleton, so two names that look alike are one name, which Keycloak refuses twice.
Refresh tokens could be used again and again; the realm now rotates them."""

from __future__ import annotations

import secrets

import pytest
import requests
from flask.testing import FlaskClient

from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.oidc import token_endpoint
from tests.security.hosted import fill, link, start
from tests.support.portal import Browser, visible_text
from tests.support.sidecar import PASSWORD, TEST_CLIENT_SECRET, SidecarRealm, bearer

pytestmark = pytest.mark.integration
# A full-width "a" (U+FF41), the "fi" ligature (U+FB01), a dotless "i" (U+0131).
TWINS = [("admin", "\uff41dmin"), ("fiona", "\ufb01ona"), ("ivan", "\u0131van")]


@pytest.mark.parametrize(("name", "look_alike"), TWINS)
def test_a_name_that_looks_like_another_is_refused_everywhere(
        sidecar_realm: SidecarRealm, client: FlaskClient, name: str, look_alike: str) -> None:
    tag = secrets.token_hex(3)
    sidecar_realm.user(f"{name}{tag}")
    twin = f"{look_alike}{tag}"

    with pytest.raises(KeycloakRequestError) as by_admin_api:
        sidecar_realm.api.create_user({"username": twin, "email": f"a{tag}@example.org",
                                       "enabled": True})
    by_rpc = client.post("/auth/users/register", headers=bearer(sidecar_realm.service_token()),
                         json=[{"username": twin, "password": PASSWORD,
                                "email": f"b{tag}@example.org"}])
    browser = Browser()
    form = browser.get(str(link(start(browser, sidecar_realm.keycloak.url, sidecar_realm.name),
                                r"/registration")))
    by_page = fill(browser, form, "email", username=twin, email=f"c{tag}@example.org",
                   firstName="Twin", lastName="Name")

    assert by_admin_api.value.status == 400
    assert by_rpc.status_code == 400, by_rpc.json
    assert "look-alike" in by_rpc.json["why"]
    assert "look-alike" in visible_text(by_page.page)
    assert sidecar_realm.api.users_by_username(twin) == []


def test_a_refresh_token_works_once(sidecar_realm: SidecarRealm) -> None:
    name = f"rita-{secrets.token_hex(3)}"
    sidecar_realm.user(name)
    endpoint = token_endpoint(sidecar_realm.keycloak.url, sidecar_realm.name)
    client = {"client_id": "sidecar-tests", "client_secret": TEST_CLIENT_SECRET}
    tokens = requests.post(endpoint, timeout=10, data={
        **client, "grant_type": "password", "username": name, "password": PASSWORD}).json()

    first = requests.post(endpoint, timeout=10, data={
        **client, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    again = requests.post(endpoint, timeout=10, data={
        **client, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})

    assert first.status_code == 200, first.text
    assert again.status_code == 400, again.text
    assert again.json()["error"] == "invalid_grant"
