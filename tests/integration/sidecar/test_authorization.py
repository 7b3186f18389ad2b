"""Who may call what: every RPC against every kind of bad token and the real tokens of
USER, ADMIN and SERVICE callers."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.app import create_app
from extensions.sidecar.rpc import RPCS
from idpack.keycloak.oidc import unverified_claims
from tests.support.rpc_table import TABLE
from tests.support.sidecar import SidecarRealm, bearer

# Routes anyone may call (the link's token is the proof; a short link is public).
OPEN = {("GET", "/auth/users/verifyUserInfo"), ("POST", "/auth/users/verifyUserInfo"),
        ("GET", "/s/<code>"), ("POST", "/s/<code>")}
# A harmless body for each RPC, so an authorized call never changes much.
BODIES: dict[str, Any] = {
    "createNewUser": [{"username": "x\ny"}],
    "updateUserInfo": {},
    "changePassword": {"currentPassword": "wrong", "newPassword": "x"},
    "changePasswordWithReset": {"userId": "nobody", "newPassword": "x"},
    "lookupUsers": {"users": []},
    "lookupEmail": {"userId": "nobody"},
    "lookupUserWithEmail": {"email": "nobody@example.org"},
    "updateOptionalUserInfo": {},
}


def call(client: FlaskClient, name: str, headers: dict[str, str]) -> Any:
    method, path, _ = TABLE[name]
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, headers=headers, json=BODIES.get(name))


def test_the_apps_routes_and_guards_are_exactly_the_table(app: Flask) -> None:
    guarded, open_routes = {}, set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/auth/", "/s/")):
            continue
        view = app.view_functions[rule.endpoint]
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            roles = getattr(view, "allowed_roles", None)
            if roles is None:
                open_routes.add((method, rule.rule))
            else:
                guarded[(method, rule.rule)] = {r.value for r in roles}

    assert guarded == {(method, path): roles for method, path, roles in TABLE.values()}
    assert open_routes == OPEN
    assert {spec.name for spec in RPCS if spec.roles is not None} == set(TABLE)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A token signed by a key Keycloak never had (or not signed at all for alg none)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if header["alg"] == "none":
        return signing_input + "."
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def unverified_token(realm: SidecarRealm) -> str:
    """Keycloak will not log in an unverified user while the realm demands verification,
    which is the first line of defence; the sidecar's check is the second, for tokens
    made while verification was off (or by a misconfigured client). Such a token:"""
    realm.api.update({"verifyEmail": False})
    try:
        return realm.token("matrix-unverified")
    finally:
        realm.api.update({"verifyEmail": True})


@pytest.fixture(scope="module")
def tokens(sidecar_realm: SidecarRealm) -> dict[str, str]:
    sidecar_realm.user("matrix-user")
    sidecar_realm.user("matrix-admin", role="ADMIN")
    sidecar_realm.user("matrix-unverified", verified=False)
    sidecar_realm.user("matrix-short")
    user = sidecar_realm.token("matrix-user")
    header = json.loads(base64.urlsafe_b64decode(user.split(".")[0] + "=="))
    claims = unverified_claims(user)
    # The sidecar's own service-account token: the realm's, valid, for Keycloak's Admin
    # API (realm-management), not for the sidecar.
    other_audience = sidecar_realm.service_token(client="idpack-sidecar")
    assert "idpack-sidecar" not in unverified_claims(other_audience).get("aud", [])
    short = sidecar_realm.token("matrix-short", client="sidecar-tests-short-lived")
    return {
        "USER": user,
        "ADMIN": sidecar_realm.token("matrix-admin"),
        "SERVICE": sidecar_realm.service_token(),
        "unverified": unverified_token(sidecar_realm),
        "bad signature": forged(claims, header),
        "alg none": forged(claims, {**header, "alg": "none"}),
        "HMAC": forged(claims, {**header, "alg": "HS256"}),
        "other audience": other_audience,
        "expired": short,
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize("name", TABLE)
def test_each_rpc_refuses_every_bad_token(client: FlaskClient, tokens: dict[str, str],
                                          name: str) -> None:
    no_token = call(client, name, {})
    assert (no_token.status_code, no_token.json["errorCode"]) == (401, "UNAUTHORIZED")
    for kind in ("bad signature", "alg none", "HMAC", "other audience", "garbage"):
        response = call(client, name, bearer(tokens[kind]))
        assert response.status_code == 401, kind
        assert response.json["why"] == "Unauthorized: invalid token", kind


@pytest.mark.parametrize("name", TABLE)
def test_each_rpc_serves_exactly_the_roles_of_the_table(client: FlaskClient,
                                                        tokens: dict[str, str],
                                                        name: str) -> None:
    for role in ("USER", "ADMIN", "SERVICE"):
        response = call(client, name, bearer(tokens[role]))
        if role in TABLE[name][2]:
            assert response.status_code not in (401, 403, 500), (role, response.json)
        else:
            assert (response.status_code, response.json["why"]) == (401, "Permission denied"), role


def test_an_expired_token_is_refused_by_every_rpc(sidecar_realm: SidecarRealm,
                                                  tokens: dict[str, str]) -> None:
    """The short-lived client's tokens live 2 s; this app allows no clock leeway."""
    strict = create_app(sidecar_realm.settings(leeway_seconds=0,
                                               index_users=False)).test_client()
    expires = unverified_claims(tokens["expired"])["exp"]
    time.sleep(max(0.0, expires + 1 - time.time()))

    for name in TABLE:
        response = call(strict, name, bearer(tokens["expired"]))
        assert (response.status_code, response.json["why"]) == (
            401, "Unauthorized: invalid token"), name


def test_an_unverified_user_is_told_why(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.get("/auth/users/userInfo", headers=bearer(tokens["unverified"]))

    assert response.status_code == 401
    assert response.json["errorCode"] == "EMAIL_NOT_VERIFIED"
    assert "not verified" in response.json["why"]


def test_a_token_of_another_issuer_is_refused(sidecar_realm: SidecarRealm,
                                              tokens: dict[str, str]) -> None:
    strict = create_app(sidecar_realm.settings(issuer="https://id.elsewhere.example",
                                               index_users=False))

    response = strict.test_client().get("/auth/users/userInfo", headers=bearer(tokens["USER"]))

    assert response.status_code == 401


def test_verify_user_info_needs_no_token(client: FlaskClient) -> None:
    response = client.get("/auth/users/verifyUserInfo?id=unknown-token")

    assert response.status_code == 302
