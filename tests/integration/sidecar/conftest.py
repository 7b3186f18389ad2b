"""A MikroCloud realm for the sidecar tests, real users with real tokens, and the
sidecar app pointed at it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.app import create_app
from extensions.sidecar.settings import SidecarSettings
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import client_credentials_token, issuer, password_grant
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.target import KeycloakTarget
from tests.integration.provisioning.realm_helpers import SECRETS, apply, load, token_client
from tests.smtp_peer import Received, smtp_peer

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

    def token(self, username: str, password: str = PASSWORD,
              client: str = "sidecar-tests") -> str:
        response = password_grant(self.keycloak.url, self.name, client, TEST_CLIENT_SECRET,
                                  username, password)
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
        }
        return SidecarSettings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture(scope="package")
def sidecar_realm(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidecarRealm]:
    name = f"t-sidecar-{secrets.token_hex(3)}"
    overlay: Path = tmp_path_factory.mktemp("sidecar") / "tests.yaml"
    overlay.write_text(OVERLAY)
    apply(keycloak_admin, load(name, overlay, env={**SECRETS,
                                                   "SIDECAR_TESTS_SECRET": TEST_CLIENT_SECRET}))
    try:
        yield SidecarRealm(name, keycloak, keycloak_admin.realm(name))
    finally:
        keycloak_admin.delete_realm(name)


@pytest.fixture(scope="package")
def mail() -> Iterator[tuple[int, Received]]:
    with smtp_peer() as peer:
        yield peer


@pytest.fixture(scope="package")
def app(sidecar_realm: SidecarRealm, mail: tuple[int, Received],
        tmp_path_factory: pytest.TempPathFactory) -> Flask:
    store = tmp_path_factory.mktemp("store") / "store.sqlite"
    return create_app(sidecar_realm.settings(smtp_port=mail[0], store=str(store),
                                             public_url="http://sidecar.test"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
