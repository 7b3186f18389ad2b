"""Security 2-3: no client of the realm issues a token for a password alone.

`admin-cli` was not in the realm file, so it kept Keycloak's defaults (public, direct
grants, full scope, the conditional-OTP direct-grant flow): a self-registered user got
access and offline tokens for the password alone, and for users createNewUser made it
said whether a password was right ("Account is not fully set up"). The sidecar's own
password check took a token too. Now every built-in client is declared with the least
it needs, the realm's direct-grant flow asks for a TOTP code always, the password check
ends before any token, and offline_access is no default role."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import requests

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import password_grant, token_endpoint
from idpack.keycloak.target import KeycloakTarget
from provisioning.kinds.base import secret_variable
from tests.support.realm import SECRETS, applied

pytestmark = pytest.mark.integration
PASSWORD = "Corr3ct-Horse!"


@pytest.fixture(scope="module")
def mikrocloud(keycloak_admin: KeycloakAdminClient) -> Iterator[str]:
    """realm-config/mikrocloud.yaml alone: the clients it makes, no test's client."""
    with applied(keycloak_admin, f"t-password-alone-{secrets.token_hex(3)}") as name:
        yield name


def people(admin: KeycloakAdminClient, realm: str) -> dict[str, str]:
    """Two users whose password is their only credential: one who registered and
    verified the address, one made as createNewUser makes them (actions pending)."""
    api = admin.realm(realm)
    made = {}
    for kind, pending in (("registered", []), ("created", ["CONFIGURE_TOTP", "VERIFY_EMAIL"])):
        name = f"{kind}-{secrets.token_hex(3)}"
        user_id = api.create_user({"username": name, "email": f"{name}@example.org",
                                   "emailVerified": not pending, "enabled": True,
                                   "firstName": "Pat", "lastName": "Word",
                                   "requiredActions": pending})
        api.reset_password(user_id, PASSWORD)
        made[kind] = name
    return made


def grant(keycloak: KeycloakTarget, realm: str, client: dict[str, object], username: str,
          password: str) -> dict[str, str]:
    secret = None if client["publicClient"] else SECRETS.get(
        secret_variable(str(client["clientId"])), "not-the-secret")
    answer = requests.post(token_endpoint(keycloak.url, realm), timeout=10, data={
        "grant_type": "password", "client_id": client["clientId"], "username": username,
        "password": password, "scope": "openid offline_access",
        **({"client_secret": secret} if secret else {})})
    body: dict[str, str] = answer.json()
    return body


def test_no_client_gives_a_token_or_a_hint_for_a_password_alone(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, mikrocloud: str) -> None:
    clients = keycloak_admin.realm(mikrocloud).clients()
    assert {"admin-cli", "account", "account-console", "broker", "realm-management",
            "security-admin-console", "portal", "idpack-password-check"} <= {
        c["clientId"] for c in clients}

    tokens, hints = [], []
    for client in clients:
        users = people(keycloak_admin, mikrocloud)  # fresh ones: no lockout carries over
        right = {kind: grant(keycloak, mikrocloud, client, name, PASSWORD)
                 for kind, name in users.items()}
        wrong = {kind: grant(keycloak, mikrocloud, client, name, "Wr0ng-Horse!")
                 for kind, name in users.items()}
        tokens += [f"{client['clientId']} for a {kind} user" for kind, answer in right.items()
                   if "access_token" in answer]
        if client["publicClient"]:  # anyone may ask these: the answer must not tell
            hints += [f"{client['clientId']} for a {kind} user: {right[kind]} vs {wrong[kind]}"
                      for kind in users if right[kind] != wrong[kind]]

    assert tokens == []
    assert hints == []


def test_the_sidecars_password_check_gets_no_token(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, mikrocloud: str) -> None:
    users = people(keycloak_admin, mikrocloud)
    secret = SECRETS["IDPACK_PASSWORD_CHECK_CLIENT_SECRET"]

    answers = [password_grant(keycloak.url, mikrocloud, "idpack-password-check", secret,
                              name, PASSWORD).json() for name in users.values()]

    assert [a.get("error_description") for a in answers] == ["Account is not fully set up"] * 2
    assert not any("access_token" in a for a in answers)


def test_offline_access_is_no_default_role(keycloak_admin: KeycloakAdminClient,
                                           mikrocloud: str) -> None:
    api = keycloak_admin.realm(mikrocloud)
    name = people(keycloak_admin, mikrocloud)["registered"]
    [user] = api.users_by_username(name)

    roles = {r["name"] for r in api.effective_realm_roles_of_user(user["id"])}

    assert "USER" in roles
    assert "offline_access" not in roles
