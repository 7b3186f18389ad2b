"""UCloud's roles through the sidecar that `idpack up` serves, with the client secrets it
generated.

tests/integration/sidecar/ already checks, through Flask's test client on a realm the
tests provision with known secrets, the whole matrix of RPCs by USER, ADMIN and SERVICE
tokens (test_authorization.py) and that createNewUser's ADMIN is ADMIN in lookupUsers
(test_rpcs.py). What is new here: the real served sidecar and the realm of `make run`
(example-service's generated secret from .idpack/secrets/), every RPC the SERVICE column
names doing its real work over HTTP, and an ADMIN made by createNewUser who, after the
TOTP set-up at the first login, acts as ADMIN with a token of their own.

realm-config declares no users (only roles and clients), so an ADMIN given through
realm-config is not possible. The first ADMIN gets the role from a Keycloak
administrator (the Admin API, as here); later ones from createNewUser called by an ADMIN.
A SERVICE creates USER accounts only."""

from __future__ import annotations

import time

import requests
from playwright.sync_api import Browser

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import client_credentials_token, unverified_claims
from tests.e2e.accounts.conftest import (
    PasswordUser,
    create_password_user,
    first_login,
    lookup_role,
    rpc,
    service_token,
    user_token,
)
from tests.e2e.stack import Stack
from tests.support.rpc_table import TABLE

DENIED = {"why": "Permission denied", "errorCode": "PERMISSION_DENIED"}


def refusal(response: requests.Response) -> tuple[int, str]:
    """A refused grant: its status and Keycloak's description (error invalid_grant)."""
    body = response.json()
    assert body["error"] == "invalid_grant", body
    return response.status_code, str(body["error_description"])


def test_the_generated_service_secret_gives_a_service_token_and_nothing_less(
        stack: Stack) -> None:
    token = service_token(stack)
    claims = unverified_claims(token)
    assert "SERVICE" in claims["realm_access"]["roles"]
    assert "idpack-sidecar" in ([claims["aud"]] if isinstance(claims["aud"], str)
                                else claims["aud"])
    wrong = client_credentials_token(stack.keycloak_url, stack.realm, "example-service",
                                     "not-the-generated-secret")
    assert wrong.status_code == 401
    no_token = rpc(stack, "POST", "/auth/users/lookup", None, {"users": []})
    assert (no_token.status_code, no_token.json()["errorCode"]) == (401, "UNAUTHORIZED")


def test_a_service_token_works_exactly_where_the_table_says_service(
        stack: Stack, keycloak_admin: KeycloakAdminClient) -> None:
    token = service_token(stack)
    # Accepted: each SERVICE RPC doing its real work, on users the service creates.
    created = rpc(stack, "POST", "/auth/users/register", token, [
        {"username": "svc-made-user-e2e", "password": "Blue-Kettle-42!",
         "email": "svc-made-user-e2e@example.org", "firstnames": "Asta", "lastname": "Holm"},
        {"username": "svc-made-other-e2e", "email": "svc-made-other-e2e@example.org"}])
    assert created.status_code == 200, created.text
    user_id = created.json()[0]["userId"]
    privileged = rpc(stack, "POST", "/auth/users/register", token, [
        {"username": "svc-made-admin-e2e", "password": "Blue-Kettle-42!",
         "email": "svc-made-admin-e2e@example.org", "role": "ADMIN"}])
    assert privileged.status_code == 403, privileged.text  # only an ADMIN makes an ADMIN

    lookup = rpc(stack, "POST", "/auth/users/lookup", token,
                 {"users": ["svc-made-user-e2e", "svc-made-other-e2e", "nobody-e2e"]})
    assert lookup.status_code == 200, lookup.text
    results = lookup.json()["results"]
    assert {name: hit and {k: hit[k] for k in ("subject", "role")}
            for name, hit in results.items()} == {
        "svc-made-user-e2e": {"subject": "svc-made-user-e2e", "role": "USER"},
        "svc-made-other-e2e": {"subject": "svc-made-other-e2e", "role": "USER"},
        "nobody-e2e": None}
    assert isinstance(results["svc-made-user-e2e"]["uid"], int)  # UCloud's uid, given at once

    # Lookups by address answer once its owner proved it (here the Admin API says so).
    email = rpc(stack, "POST", "/auth/users/lookup/email", token, {"userId": user_id})
    assert email.status_code == 404, email.text
    api = keycloak_admin.realm(stack.realm)
    api.update_user(user_id, {**api.user(user_id), "emailVerified": True})
    email = rpc(stack, "POST", "/auth/users/lookup/email", token, {"userId": user_id})
    assert (email.status_code, email.json()) == (200, {"email": "svc-made-user-e2e@example.org"})
    with_email = rpc(stack, "POST", "/auth/users/lookup/with-email", token,
                     {"email": "svc-made-user-e2e@example.org"})
    assert (with_email.status_code, with_email.json()) == (
        200, {"userId": "svc-made-user-e2e", "firstNames": "Asta", "lastName": "Holm"})
    reset = rpc(stack, "POST", "/auth/users/password/reset", token,
                {"userId": user_id, "newPassword": "R3set-Kettle-42!"})
    assert reset.status_code == 204, reset.text

    # UCloud's further calls, SERVICE only: the principal, by uid, and the iterator.
    principal = rpc(stack, "POST", "/auth/users/retrievePrincipal", token,
                    {"username": "svc-made-user-e2e"})
    assert (principal.status_code, principal.json()["type"], principal.json()["id"]) == (
        200, "password", "svc-made-user-e2e")
    uid = results["svc-made-user-e2e"]["uid"]
    by_uid = rpc(stack, "POST", "/auth/users/lookupUID", token, {"uids": [uid]})
    assert by_uid.json()["users"][str(uid)]["subject"] == "svc-made-user-e2e"
    iterator = rpc(stack, "POST", "/auth/users/iterator/open", token, {}).json()["id"]
    walked: set[str] = set()
    while page := rpc(stack, "POST", "/auth/users/iterator/next", token,
                      {"id": iterator}).json():
        walked |= {p["id"] for p in page}
    assert "svc-made-user-e2e" in walked
    closed = rpc(stack, "POST", "/auth/users/iterator/close", token, {"id": iterator})
    assert closed.status_code == 200

    # Refused: every RPC whose row has no SERVICE, with UCloud's 401.
    accepted = {"createNewUser", "lookupUsers", "lookupEmail", "lookupUserWithEmail",
                "changePasswordWithReset", "retrievePrincipal", "lookupUID",
                "openUserIterator", "fetchNextIterator", "closeIterator"}
    assert accepted == {name for name, (_, _, roles) in TABLE.items() if "SERVICE" in roles}
    for name, (method, path, roles) in TABLE.items():
        if "SERVICE" in roles:
            continue
        response = rpc(stack, method, path, token, None if method == "GET" else {})
        assert (response.status_code, response.json()) == (401, DENIED), name


def test_an_admin_made_by_create_new_user_is_admin_after_setting_up_totp(
        browser: Browser, stack: Stack, keycloak_admin: KeycloakAdminClient) -> None:
    service = service_token(stack)
    admin = create_password_user(stack, service, "ingrid")
    api = keycloak_admin.realm(stack.realm)
    api.add_realm_role_mappings(admin.user_id, [api.role("ADMIN")])  # the first ADMIN
    found = lookup_role(stack, service, admin.username, role="ADMIN")
    assert (found["subject"], found["role"]) == (admin.username, "ADMIN")

    # No token of their own before the first login's set-up.
    assert refusal(user_token(stack, admin, None)) == (400, "Account is not fully set up")

    context = browser.new_context()
    authenticator = first_login(context.new_page(), stack, admin, keycloak_admin)
    context.close()

    # 2FA holds for the API too: the password alone gets no token, nor a wrong code.
    # (Failures more than 1 s apart: back to back, the right code was refused next, as
    # Keycloak's brute-force quick-login check locks the account after two failures
    # within 1 s, for 60 s by its defaults, which realm-config keeps.)
    assert refusal(user_token(stack, admin, None)) == (400, "Invalid user credentials")
    time.sleep(1.5)
    assert refusal(user_token(stack, admin, authenticator.wrong_code())) == (
        400, "Invalid user credentials")
    time.sleep(1.5)
    response = user_token(stack, admin, authenticator.code())
    assert response.status_code == 200, response.text
    token = str(response.json()["access_token"])
    assert "ADMIN" in unverified_claims(token)["realm_access"]["roles"]

    # ADMIN's rows of the table answer, SERVICE-only rows refuse.
    me = rpc(stack, "GET", "/auth/users/userInfo", token)
    assert (me.status_code, me.json()["email"]) == (200, admin.email)
    lookup = rpc(stack, "POST", "/auth/users/lookup", token, {"users": [admin.username]})
    found = lookup.json()["results"][admin.username]
    assert (found["subject"], found["role"]) == (admin.username, "ADMIN")
    made: PasswordUser = create_password_user(stack, token, "ulla")  # by the ADMIN
    api.update_user(made.user_id, {**api.user(made.user_id), "emailVerified": True})
    email = rpc(stack, "POST", "/auth/users/lookup/email", token, {"userId": made.user_id})
    assert (email.status_code, email.json()) == (200, {"email": made.email})
    made_role = rpc(stack, "POST", "/auth/users/lookup", token, {"users": [made.username]})
    assert made_role.json()["results"][made.username]["role"] == "USER"
    for name in ("lookupUserWithEmail", "changePasswordWithReset"):
        method, path, roles = TABLE[name]
        assert roles == {"SERVICE"}
        body = {"email": made.email} if name == "lookupUserWithEmail" else {
            "userId": made.user_id, "newPassword": "R3set-Kettle-42!"}
        response = rpc(stack, method, path, token, body)
        assert (response.status_code, response.json()) == (401, DENIED), name
