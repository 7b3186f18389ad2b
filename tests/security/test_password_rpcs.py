"""Security 5, 6 and 7: the password RPCs.

5: changePassword checked the current password with a direct grant that then asked for
   the TOTP code, so every user with TOTP got 400 for the right password (and two
   tries locked the account).
6: changePasswordWithReset gave a password to users who sign in only through an
   identity provider, opening a way in around it.
7: a SERVICE could create ADMIN or SERVICE accounts and reset an ADMIN's password."""

from __future__ import annotations

import secrets
import time

import pytest
from flask.testing import FlaskClient

from idpack.keycloak.oidc import password_grant
from tests.support.realm import SECRETS
from tests.support.sidecar import PASSWORD, SidecarRealm, bearer

pytestmark = pytest.mark.integration
NEW_PASSWORD = "N3w-Password!"


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def failures(realm: SidecarRealm, user_id: str) -> int:
    """The brute-force counter of the user; Keycloak updates it a moment later."""
    time.sleep(1.0)
    return int(realm.api.brute_force_status(user_id)["numFailures"])


def test_a_user_with_totp_changes_the_password_given_the_right_one(
        sidecar_realm: SidecarRealm, client: FlaskClient) -> None:
    name = unique("tina")
    user_id, authenticator = sidecar_realm.user_with_totp(name)
    token = bearer(sidecar_realm.token_with_code(name, authenticator.now()))

    wrong = client.post("/auth/users/password", headers=token,
                        json={"currentPassword": "Not-my-passw0rd", "newPassword": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert failures(sidecar_realm, user_id) == 1  # a wrong password still counts

    right = client.post("/auth/users/password", headers=token,
                        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})

    assert right.status_code == 204, right.json
    # The check ends before any sign-in (no token for a password alone), so the right
    # password neither counts as a failure nor clears the one before: the next sign-in does.
    assert failures(sidecar_realm, user_id) == 1
    assert sidecar_realm.api.user(user_id)["enabled"]
    # The check opened no session.
    assert not any("idpack-password-check" in s.get("clients", {}).values()
                   for s in sidecar_realm.api.user_sessions(user_id))
    # The new password is the one now (checked as the sidecar checks one: the code of
    # this 30-second step was used already, and Keycloak takes each code once). The
    # check's answer to a right password is "not fully set up", and never a token.
    check = password_grant(sidecar_realm.keycloak.url, sidecar_realm.name,
                           "idpack-password-check",
                           SECRETS["IDPACK_PASSWORD_CHECK_CLIENT_SECRET"], name, NEW_PASSWORD)
    assert check.json() == {"error": "invalid_grant",
                            "error_description": "Account is not fully set up"}


def test_a_federated_user_gets_no_password_by_reset(
        sidecar_realm: SidecarRealm, client: FlaskClient) -> None:
    name = unique("gitte")
    user_id = sidecar_realm.user(name, password=None)  # as GitHub or WAYF makes them

    answer = client.post("/auth/users/password/reset",
                         headers=bearer(sidecar_realm.service_token()),
                         json={"userId": name, "newPassword": NEW_PASSWORD})

    assert answer.status_code == 400
    assert "no password to reset" in answer.json["why"]
    assert sidecar_realm.api.credentials(user_id) == []


def test_a_service_creates_and_resets_only_user_accounts(
        sidecar_realm: SidecarRealm, client: FlaskClient) -> None:
    service = bearer(sidecar_realm.service_token())
    admin_name = unique("root")
    admin_id = sidecar_realm.user(admin_name, role="ADMIN")
    plain_name = unique("ulf")
    sidecar_realm.user(plain_name)

    for role in ("ADMIN", "SERVICE"):
        name = unique("new")
        created = client.post("/auth/users/register", headers=service, json=[
            {"username": name, "password": PASSWORD, "email": f"{name}@example.org",
             "role": role}])
        assert created.status_code == 403, created.json
        assert sidecar_realm.api.users_by_username(name) == []
    reset_admin = client.post("/auth/users/password/reset", headers=service,
                              json={"userId": admin_name, "newPassword": NEW_PASSWORD})
    reset_user = client.post("/auth/users/password/reset", headers=service,
                             json={"userId": plain_name, "newPassword": NEW_PASSWORD})

    assert reset_admin.status_code == 403, reset_admin.json
    assert reset_user.status_code == 204, reset_user.json
    sidecar_realm.token(admin_name)  # the ADMIN's password is the one it had
    sidecar_realm.token(plain_name, password=NEW_PASSWORD)
    assert sidecar_realm.api.user(admin_id)["enabled"]
