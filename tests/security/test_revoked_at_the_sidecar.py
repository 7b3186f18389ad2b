"""Security 2-6: the sidecar refuses a disabled user, and a token from before the user's
not-before, at once.

It checked a token's signature and expiry only, so a user an administrator disabled
(or signed out everywhere) read and wrote through the sidecar for the rest of the
token's life and the leeway, up to 5.5 minutes. It now asks Keycloak whether the token
is still active (token introspection) on every call of a user."""

from __future__ import annotations

import secrets

import pytest
from flask.testing import FlaskClient

from tests.support.sidecar import SidecarRealm, bearer

pytestmark = pytest.mark.integration


def test_a_disabled_user_is_refused_at_once(sidecar_realm: SidecarRealm,
                                            client: FlaskClient) -> None:
    name = f"dora-{secrets.token_hex(3)}"
    user_id = sidecar_realm.user(name)
    token = bearer(sidecar_realm.token(name))
    assert client.get("/auth/users/userInfo", headers=token).status_code == 200

    sidecar_realm.api.update_user(user_id, {**sidecar_realm.api.user(user_id),
                                            "enabled": False})
    read = client.get("/auth/users/userInfo", headers=token)
    write = client.post("/auth/users/optionalInfo", headers=token,
                        json={"department": "Took over"})

    assert (read.status_code, write.status_code) == (401, 401)
    assert read.json["errorCode"] == "UNAUTHORIZED"
    assert "department" not in (sidecar_realm.api.user(user_id).get("attributes") or {})


def test_a_token_from_before_the_users_not_before_is_refused(sidecar_realm: SidecarRealm,
                                                             client: FlaskClient) -> None:
    name = f"ebbe-{secrets.token_hex(3)}"
    user_id = sidecar_realm.user(name)
    old = bearer(sidecar_realm.token(name))
    assert client.get("/auth/users/userInfo", headers=old).status_code == 200

    sidecar_realm.api.sign_out_everywhere(user_id)  # the admin console's "Sign out"
    refused = client.get("/auth/users/userInfo", headers=old)
    fresh = client.get("/auth/users/userInfo", headers=bearer(sidecar_realm.token(name)))

    assert refused.status_code == 401
    assert fresh.status_code == 200
