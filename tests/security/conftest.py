"""The security regression tests: one module per hole found and closed, each test
failing on the code before its fix. They run against the real parts: a MikroCloud
realm of this package's own (its mail to a real SMTP peer, its `example-oidc` provider
switched on and pointed at a local OpenID provider), the sidecar app, the portal on
real ports, the relay."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.app import create_app
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.fakes.oidc_provider import FakeOidcProvider
from tests.support.portal import PortalStack, portal_stack
from tests.support.realm import token_client
from tests.support.sidecar import SidecarRealm, sidecar_realm_applied
from tests.support.smtp_peer import Received, smtp_peer

ID_TOKEN_CLIENT = "id-token-tests"
# A client whose ID tokens look like access tokens for the sidecar, as careless mappers
# would make them (the sidecar as audience, the realm roles): the sidecar must still
# refuse them, as they are not access tokens.
MORE_CLIENTS = token_client(ID_TOKEN_CLIENT, "SIDECAR_TESTS_SECRET").replace(
    "access.token.claim: true", "access.token.claim: true, id.token.claim: true") + """
      realm-roles: {type: oidc-usermodel-realm-role-mapper, config: {
        claim.name: realm_access.roles, multivalued: true, jsonType.label: String,
        access.token.claim: true, id.token.claim: true}}
"""


@pytest.fixture(scope="package")
def mail() -> Iterator[tuple[int, Received]]:
    """The SMTP peer the package's realm mails to: (port, what it received)."""
    with smtp_peer() as running:
        yield running


@pytest.fixture(scope="package")
def provider(keycloak: KeycloakTarget) -> Iterator[FakeOidcProvider]:
    fake = FakeOidcProvider("idpack", secrets.token_urlsafe(24), re.compile(
        re.escape(keycloak.url) + r"/realms/[^/]+/broker/example-oidc/endpoint"))
    with fake.running():
        yield fake


@pytest.fixture(scope="package")
def sidecar_realm(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
                  tmp_path_factory: pytest.TempPathFactory, mail: tuple[int, Received],
                  provider: FakeOidcProvider) -> Iterator[SidecarRealm]:
    folder = tmp_path_factory.mktemp("security")
    overlay = folder / "provider.yaml"
    # The realm's "further OpenID Connect provider", switched on and pointed at a local
    # one whose users assert whatever address the test gives them.
    overlay.write_text("identityProviders:" + provider.realm_entry())
    with sidecar_realm_applied(keycloak, keycloak_admin, folder, more_clients=MORE_CLIENTS,
                               smtp_port=mail[0], more_overlays=[overlay],
                               more_env={"EXAMPLE_OIDC_ISSUER": provider.issuer,
                                         "EXAMPLE_OIDC_CLIENT_ID": provider.client.client_id,
                                         "EXAMPLE_OIDC_CLIENT_SECRET":
                                         provider.client.client_secret}) as realm:
        yield realm


@pytest.fixture(scope="package")
def app(sidecar_realm: SidecarRealm, mail: tuple[int, Received],
        tmp_path_factory: pytest.TempPathFactory) -> Flask:
    store = tmp_path_factory.mktemp("store") / "store.sqlite"
    return create_app(sidecar_realm.settings(store=str(store), index_users=False,
                                             smtp_port=mail[0],
                                             public_url="http://sidecar.test"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="package")
def portal(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalStack]:
    with portal_stack(keycloak, keycloak_admin, tmp_path_factory.mktemp("portal")) as running:
        yield running
