"""`idpack migrate ucloud`, as a UCloud operator runs it, against the real Keycloak: an
export made here from known passwords and TOTP secrets, as UCloud stores them (PBKDF2-
SHA512, 16-byte salt, 10,000 iterations, 256-bit key; base32 TOTP secrets), signs in
afterwards with the old password and a code from the old secret; WAYF users are linked
to the `wayf` provider; and tokens carry UCloud's claims for each kind of principal."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import client_credentials_token, password_grant, unverified_claims
from idpack.keycloak.target import KeycloakTarget
from tests.support.realm import idpack
from tests.support.sidecar import TEST_CLIENT_SECRET, SidecarRealm, sidecar_realm_applied

# Two clients as UCloud's services would have them: a user-facing one (password grants
# here, for the test) and a service's own account, both with the ucloud-claims scope.
UCLOUD_CLIENTS = """
  ucloud-tests:
    publicClient: false
    standardFlowEnabled: false
    directAccessGrantsEnabled: true
    # Keycloak's built-in direct grant (the realm's own wants a TOTP code always): it
    # asks users who have TOTP for the code and tells a user it cannot finish apart.
    authenticationFlowBindingOverrides: {direct_grant: direct grant}
    secret: "${env:SIDECAR_TESTS_SECRET}"
    defaultClientScopes: [ucloud-claims]
  ucloud-service:
    publicClient: false
    standardFlowEnabled: false
    serviceAccountsEnabled: true
    secret: "${env:SIDECAR_TESTS_SECRET}"
    defaultClientScopes: [ucloud-claims]
    serviceAccountRoles: {realm: [SERVICE]}
    protocolMappers:
      role: {type: oidc-hardcoded-claim-mapper, config: {claim.name: role,
        claim.value: SERVICE, jsonType.label: String, access.token.claim: "true"}}
      principalType: {type: oidc-hardcoded-claim-mapper, config: {
        claim.name: principalType, claim.value: service, jsonType.label: String,
        access.token.claim: "true"}}
"""
SECRET = TEST_CLIENT_SECRET


@pytest.fixture(scope="module")
def ucloud_realm(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidecarRealm]:
    with sidecar_realm_applied(keycloak, keycloak_admin, tmp_path_factory.mktemp("ucloud"),
                               more_clients=UCLOUD_CLIENTS) as realm:
        yield realm


def ucloud_password(password: str) -> tuple[str, str]:
    """(hash, salt), base64, as UCloud keeps a password."""
    salt = secrets.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 10_000, 32)
    return base64.b64encode(key).decode(), base64.b64encode(salt).decode()


def principal(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "id": name, "role": "USER", "firstNames": name.title(),
            "lastName": "Migrated", "email": f"{name}@example.org", "title": None,
            "phoneNumber": None, "orcId": None, "organizationId": None,
            "serviceLicenseAgreement": 1, **fields}


def test_password_and_totp_users_sign_in_as_before_and_wayf_users_are_linked(
        keycloak: KeycloakTarget, ucloud_realm: SidecarRealm, tmp_path: Path) -> None:
    tag = secrets.token_hex(2)
    short, long_password = "Old-pw1!", "A-much-longer-old-passw0rd!"  # under and over 14
    totp_secret = pyotp.random_base32()
    alice, bob, cai, dora = (f"alice-{tag}", f"bob-{tag}", f"cai-{tag}", f"dora-{tag}")
    hash_a, salt_a = ucloud_password(short)
    hash_b, salt_b = ucloud_password(long_password)
    export = tmp_path / "principals.jsonl"
    lines = [
        principal("password", alice, role="ADMIN", uid=9001, passwordHash=hash_a, salt=salt_a,
                  totpSecret=totp_secret, title="Dr.", orcId="0000-0002-1825-0097"),
        principal("password", bob, uid=9002, passwordHash=hash_b, salt=salt_b),
        principal("wayf", cai, uid=9003, wayfId=f"{cai}@wayf.dk", organizationId="sdu.dk"),
        principal("password", dora, uid=9004),  # no hash: cannot be imported
        {"type": "service", "id": "_ucloud-service"},
    ]
    export.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    dry = idpack(keycloak, "migrate", "ucloud", str(export), "--dry-run")
    assert f"{alice}: PASSWORD user, role ADMIN, uid 9001, password kept" in dry.stdout, dry.stdout
    assert "Would import 3 users" in dry.stdout
    assert not ucloud_realm.api.users_by_username(alice)  # a dry run changes nothing

    first = idpack(keycloak, "migrate", "ucloud", str(export), "--realm", ucloud_realm.name)
    assert "3 added" in first.stdout, first.stdout + first.stderr
    assert f"line 4: {dora}: passwordHash, salt: a PASSWORD user needs both" in first.stdout
    assert "line 5: _ucloud-service: type: 'service' is not a person" in first.stdout
    assert first.returncode == 1  # some could not be imported, and the report says which

    # The old password and a code from the old authenticator app.
    signed_in = password_grant(keycloak.url, ucloud_realm.name, "ucloud-tests", SECRET,
                               alice, short, totp=pyotp.TOTP(totp_secret).now())
    assert signed_in.status_code == 200, signed_in.text
    wrong = password_grant(keycloak.url, ucloud_realm.name, "ucloud-tests", SECRET, alice,
                           short + "x", totp=pyotp.TOTP(totp_secret).now())
    assert wrong.status_code == 400
    # bob has no TOTP: UCloud's rule makes him set one up at the next (browser) sign-in.
    [bob_user] = ucloud_realm.api.users_by_username(bob)
    assert bob_user["requiredActions"] == ["CONFIGURE_TOTP"]
    right = password_grant(keycloak.url, ucloud_realm.name, "ucloud-tests", SECRET, bob,
                           long_password)
    assert right.json()["error_description"] == "Account is not fully set up"  # pw right
    bad = password_grant(keycloak.url, ucloud_realm.name, "ucloud-tests", SECRET, bob, "x")
    assert bad.json()["error_description"] == "Invalid user credentials"
    # cai is found by the WAYF id at the next WAYF sign-in.
    [cai_user] = ucloud_realm.api.users_by_username(cai)
    links = ucloud_realm.api.federated_identities(cai_user["id"])
    assert [(link["identityProvider"], link["userId"]) for link in links] == [
        ("wayf", f"{cai}@wayf.dk")]

    # UCloud-shaped tokens, for a PASSWORD, a WAYF and a SERVICE principal.
    claims = unverified_claims(signed_in.json()["access_token"])
    assert {k: claims.get(k) for k in ("sub", "role", "principalType", "firstNames",
                                       "lastName", "uid")} == {
        "sub": alice, "role": "ADMIN", "principalType": "password",
        "firstNames": alice.title(), "lastName": "Migrated", "uid": 9001}
    ucloud_realm.api.reset_password(cai_user["id"], "Test-only-pw1!")  # a token without SAML
    wayf_token = password_grant(keycloak.url, ucloud_realm.name, "ucloud-tests", SECRET, cai,
                                "Test-only-pw1!")
    assert wayf_token.status_code == 200, wayf_token.text
    wayf_claims = unverified_claims(wayf_token.json()["access_token"])
    assert {k: wayf_claims.get(k) for k in ("sub", "role", "principalType", "uid")} == {
        "sub": cai, "role": "USER", "principalType": "wayf", "uid": 9003}
    service = client_credentials_token(keycloak.url, ucloud_realm.name, "ucloud-service",
                                       SECRET)
    service_claims = unverified_claims(service.json()["access_token"])
    assert {k: service_claims.get(k) for k in ("sub", "role", "principalType")} == {
        "sub": "service-account-ucloud-service", "role": "SERVICE",
        "principalType": "service"}

    again = idpack(keycloak, "migrate", "ucloud", str(export), "--realm", ucloud_realm.name)
    assert "3 done by an earlier run" in again.stdout, again.stdout
    export.with_name(export.name + ".checkpoint").unlink()
    fresh = idpack(keycloak, "migrate", "ucloud", str(export), "--realm", ucloud_realm.name)
    assert "0 added, 3 already in Keycloak (skipped)" in fresh.stdout, fresh.stdout
