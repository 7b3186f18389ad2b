"""Security 2-4: a password change ends the user's other sessions and offline tokens.

After changePassword or changePasswordWithReset, every other session of the user, and
its offline tokens, still refreshed: whoever had stolen one kept it. changePassword now
ends all but the session that made the change (the caller's token names it); a reset
by a service ends them all (the user's not-before)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from idpack.keycloak.oidc import token_endpoint
from tests.support.sidecar import PASSWORD, TEST_CLIENT_SECRET, SidecarRealm, bearer

pytestmark = pytest.mark.integration
NEW_PASSWORD = "Fre5h-Passw0rd!"
CLIENT = {"client_id": "sidecar-tests", "client_secret": TEST_CLIENT_SECRET}


def signed_in(realm: SidecarRealm, name: str, scope: str = "openid") -> dict[str, Any]:
    tokens: dict[str, Any] = requests.post(
        token_endpoint(realm.keycloak.url, realm.name), timeout=10, data={
            **CLIENT, "grant_type": "password", "username": name, "password": PASSWORD,
            "scope": scope}).json()
    assert "refresh_token" in tokens, tokens
    return tokens


def refreshes(realm: SidecarRealm, tokens: dict[str, Any]) -> bool:
    return requests.post(token_endpoint(realm.keycloak.url, realm.name), timeout=10, data={
        **CLIENT, "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"]}).status_code == 200


def user_with_sessions(realm: SidecarRealm) -> tuple[str, list[dict[str, Any]]]:
    """A user signed in twice, and holding an offline token (a client that needs them
    gives its users the offline_access role)."""
    name = f"finn-{secrets.token_hex(3)}"
    user_id = realm.user(name)
    realm.api.add_realm_role_mappings(user_id, [realm.api.role("offline_access")])
    return name, [signed_in(realm, name), signed_in(realm, name),
                  signed_in(realm, name, "openid offline_access")]


def test_changing_the_password_ends_every_other_session(sidecar_realm: SidecarRealm,
                                                        client: FlaskClient) -> None:
    _, (caller, other, offline) = user_with_sessions(sidecar_realm)

    changed = client.post("/auth/users/password", headers=bearer(caller["access_token"]),
                          json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})

    assert changed.status_code == 204, changed.json
    assert not refreshes(sidecar_realm, other)
    assert not refreshes(sidecar_realm, offline)
    assert client.get("/auth/users/userInfo",
                      headers=bearer(other["access_token"])).status_code == 401
    assert refreshes(sidecar_realm, caller)  # the session that made the change goes on


def test_a_reset_by_a_service_ends_every_session(sidecar_realm: SidecarRealm,
                                                 client: FlaskClient) -> None:
    name, sessions = user_with_sessions(sidecar_realm)

    reset = client.post("/auth/users/password/reset",
                        headers=bearer(sidecar_realm.service_token()),
                        json={"userId": name, "newPassword": NEW_PASSWORD})

    assert reset.status_code == 204, reset.json
    assert [refreshes(sidecar_realm, tokens) for tokens in sessions] == [False] * 3
