"""Fixtures of the federated sign-up tests: a fake GitHub and a local OpenID provider,
started first, then the stack of `make run` with an overlay (after "dev") that switches
the realm's `github` and `example-oidc` providers on and points them at the fakes. The
OAuth clients' secrets reach the realm through the environment, as in production."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.target import KeycloakTarget
from tests.e2e.stack import Stack, running_stack
from tests.fakes.github import FakeGitHub
from tests.fakes.oidc_provider import FakeOidcProvider

GITHUB_CLIENT_ID = "Iv1.idpack-tests"
OIDC_CLIENT_ID = "idpack"  # mikrocloud.yaml's default for EXAMPLE_OIDC_CLIENT_ID

OVERLAY = """\
# The end-to-end tests' providers: GitHub and the example OpenID Connect provider,
# switched on and pointed at local fakes. Merged after environments/dev.yaml.
identityProviders:
  github:
    enabled: true
    config:
      clientId: ${{env:GITHUB_CLIENT_ID}}
      baseUrl: {github_url}
      apiUrl: {github_api_url}
"""


def broker_endpoint(keycloak: KeycloakTarget, alias: str) -> re.Pattern[str]:
    """Keycloak's redirect URI for a provider, in any realm (the stack names its realm
    only once it runs, after the fakes must know their clients)."""
    return re.compile(re.escape(keycloak.url) + rf"/realms/[^/]+/broker/{alias}/endpoint")


@pytest.fixture(scope="package")
def fake_github(keycloak: KeycloakTarget) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(GITHUB_CLIENT_ID, secrets.token_urlsafe(24),
                      callback_prefix=f"{keycloak.url}/realms/")
    with fake.running():
        yield fake


@pytest.fixture(scope="package")
def fake_oidc(keycloak: KeycloakTarget) -> Iterator[FakeOidcProvider]:
    provider = FakeOidcProvider(OIDC_CLIENT_ID, secrets.token_urlsafe(24),
                                broker_endpoint(keycloak, "example-oidc"))
    with provider.running():
        yield provider


@pytest.fixture(scope="package")
def stack(keycloak: KeycloakTarget, fake_github: FakeGitHub, fake_oidc: FakeOidcProvider,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`make run`'s stack, its realm federating with the two fakes."""
    folder = tmp_path_factory.mktemp("federation")
    overlay: Path = folder / "federation.yaml"
    overlay.write_text(OVERLAY.format(github_url=fake_github.url,
                                      github_api_url=fake_github.api_url)
                       + fake_oidc.realm_entry())
    env = {"GITHUB_CLIENT_ID": fake_github.client_id,
           "GITHUB_CLIENT_SECRET": fake_github.client_secret,
           "EXAMPLE_OIDC_CLIENT_ID": fake_oidc.client.client_id,
           "EXAMPLE_OIDC_CLIENT_SECRET": fake_oidc.client.client_secret}
    with running_stack(keycloak, folder, overlays=["dev", str(overlay)], env=env) as running:
        yield running


@pytest.fixture(scope="package")
def realm_api(keycloak: KeycloakTarget, stack: Stack) -> RealmAdmin:
    return KeycloakAdminClient.connect(keycloak).realm(stack.realm)
