"""A MikroCloud realm for the tests of the sidecar (and what builds on it): real users
with real tokens, and the sidecar's settings pointed at it."""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyotp

from extensions.sidecar.settings import SidecarSettings
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.oidc import (
    client_credentials_token,
    issuer,
    password_grant,
)
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.target import KeycloakTarget
from tests.support.realm import SECRETS, apply, load, token_client
from tests.support.totp import authenticator

TEST_CLIENT_SECRET = "sidecar-tests-secret-8a1f"
PASSWORD = "Corr3ct-Horse!"
# A client only the tests use, to get user tokens by password (the portal uses the
# browser flow); its tokens carry the sidecar's audience like the portal's do.
OVERLAY = ("clients:" + token_client("sidecar-tests", "SIDECAR_TESTS_SECRET")
           + token_client("sidecar-tests-short-lived", "SIDECAR_TESTS_SECRET",
                          attributes="{access.token.lifespan: 2}") + "\n")


@dataclass
class SidecarRealm:
    name: str
    keycloak: KeycloakTarget
    api: RealmAdmin

    def user(self, username: str, *, role: str | None = None, verified: bool = True,
             password: str | None = PASSWORD, **fields: object) -> str:
        user_id = self.api.create_user({
            "username": username, "enabled": True, "email": f"{username}@example.org",
            "emailVerified": verified, "firstName": username.title(), "lastName": "Tester",
            **fields})
        if password:
            self.api.reset_password(user_id, password)
        if role:
            self.api.add_realm_role_mappings(user_id, [self.api.role(role)])
        return user_id

    def user_with_totp(self, username: str, *, role: str | None = None) -> tuple[
            str, pyotp.TOTP]:
        """A PASSWORD user who has set up TOTP (as createNewUser's users do at their first
        sign-in): the credential imported the way a realm export carries it."""
        raw = secrets.token_hex(10)  # Keycloak keeps the secret as text, apps get base32
        self.api.partial_import({"users": [{
            "username": username, "enabled": True, "email": f"{username}@example.org",
            "emailVerified": True, "firstName": username.title(), "lastName": "Tester",
            "credentials": [
                {"type": "password", "value": PASSWORD, "temporary": False},
                {"type": "otp", "userLabel": "tests", "secretData": json.dumps({"value": raw}),
                 "credentialData": json.dumps({"subType": "totp", "digits": 6, "counter": 0,
                                               "period": 30, "algorithm": "HmacSHA1"})}],
            "realmRoles": [f"default-roles-{self.name}", *([role] if role else [])]}]})
        [user] = self.api.users_by_username(username)
        return str(user["id"]), authenticator(raw)

    def token(self, username: str, password: str = PASSWORD,
              client: str = "sidecar-tests") -> str:
        response = password_grant(self.keycloak.url, self.name, client, TEST_CLIENT_SECRET,
                                  username, password)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def token_with_code(self, username: str, code: str, password: str = PASSWORD) -> str:
        """A user token by password and TOTP code (the realm's direct grant flow asks
        users who have TOTP for the code as `totp`)."""
        response = password_grant(self.keycloak.url, self.name, "sidecar-tests",
                                  TEST_CLIENT_SECRET, username, password, totp=code)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def service_token(self, client: str = "example-service") -> str:
        secret = SECRETS["EXAMPLE_SERVICE_CLIENT_SECRET"] if client == "example-service" \
            else SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"]
        response = client_credentials_token(self.keycloak.url, self.name, client, secret)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def settings(self, **overrides: object) -> SidecarSettings:
        values: dict[str, object] = {
            "keycloak_url": self.keycloak.url, "realm": self.name,
            "client_id": "idpack-sidecar", "client_secret": SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"],
            "password_check_client_id": "idpack-password-check",
            "password_check_client_secret": SECRETS["IDPACK_PASSWORD_CHECK_CLIENT_SECRET"],
            "audience": "idpack-sidecar", "issuer": issuer(self.keycloak.url, self.name),
            "portal_url": "http://portal.test",
            # The user index's SQLite file (the store's default folder is the checkout's).
            "user_index": str(Path(tempfile.mkdtemp(prefix="idpack-index-")) / "index.sqlite"),
        }
        return SidecarSettings.from_env({}, stack_file=False, **(values | overrides))


@contextmanager
def sidecar_realm_applied(keycloak: KeycloakTarget, admin: KeycloakAdminClient,
                          folder: Path, more_clients: str = "",
                          smtp_port: int | None = None, more_overlays: Sequence[Path] = (),
                          more_env: Mapping[str, str] | None = None,
                          ) -> Iterator[SidecarRealm]:
    """The MikroCloud realm with the tests' token clients (and `more_clients`, YAML
    under `clients:`), in a realm of its own, removed afterwards; Keycloak's own mail
    goes to `smtp_port` on loopback. `more_overlays` are merged last, reading
    `more_env` besides the tests' secrets."""
    name = f"t-sidecar-{secrets.token_hex(3)}"
    overlay = folder / "tests.yaml"
    overlay.write_text(OVERLAY + more_clients)
    env = {**SECRETS, "SIDECAR_TESTS_SECRET": TEST_CLIENT_SECRET, **(more_env or {})}
    if smtp_port is not None:
        env["IDPACK_SMTP_PORT"] = str(smtp_port)
    apply(admin, load(name, overlay, *more_overlays, env=env))
    try:
        yield SidecarRealm(name, keycloak, admin.realm(name))
    finally:
        delete_realm(admin, name)


def delete_realm(admin: KeycloakAdminClient, name: str) -> None:
    """Keycloak fails a realm's deletion (HTTP 500) when a user of it is written at that
    moment (a sidecar's follower giving a new user its uid): try again."""
    for attempt in range(5):
        try:
            admin.delete_realm(name)
            return
        except KeycloakRequestError as exc:
            if exc.status != 500 or attempt == 4:
                raise
            time.sleep(0.5)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
