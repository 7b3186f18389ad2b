"""The production stack of docker-compose.yml, brought up once for the deploy tests by
README.md's deploy steps run as printed (tests/deploy/stack.py), on a fresh podman
storage, in production shape (REALM_ENV=production): every identity provider has a
local stand-in reachable from the containers (host networking): GitHub and an OpenID
Connect provider (tests/fakes), and a SAML identity provider publishing signed
metadata for WAYF; Google and Microsoft get OAuth apps of dummy ids (their buttons and
redirects are checked, not a sign-in). The tests reach the stack through the proxy
only, except where they stop, kill and restart its parts."""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.deploy.stack import PUBLIC_URL, REALM, Deployment, Installation, running_deployment
from tests.fakes.github import FakeGitHub
from tests.fakes.oidc_provider import FakeOidcProvider
from tests.fakes.saml_idp import SamlIdentityProvider, saml_identity_provider
from tests.support.containers import ROOT
from tests.support.smtp_peer import Received, smtp_peer

# The client ids README.md's step 2 gives (the stand-ins are made with them).
GITHUB_CLIENT_ID = "Iv1.0123456789abcdef"
OIDC_CLIENT_ID = "mikrocloud"


@pytest.fixture(scope="package")
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(GITHUB_CLIENT_ID, secrets.token_urlsafe(24),
                      callback_prefix=f"{PUBLIC_URL}/realms/")
    with fake.running():
        yield fake


@pytest.fixture(scope="package")
def fake_oidc() -> Iterator[FakeOidcProvider]:
    provider = FakeOidcProvider(OIDC_CLIENT_ID, secrets.token_urlsafe(24), re.compile(
        re.escape(PUBLIC_URL) + rf"/realms/{REALM}/broker/example-oidc/endpoint"))
    with provider.running():
        yield provider


@pytest.fixture(scope="package")
def wayf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdentityProvider]:
    with saml_identity_provider(tmp_path_factory.mktemp("wayf")) as idp:
        yield idp


@pytest.fixture(scope="package")
def deploy_mail() -> Iterator[tuple[int, Received]]:
    """The installation's mail server, which the relays hand mail to."""
    with smtp_peer() as peer:
        yield peer


@pytest.fixture(scope="package")  # down again before the other test folders run
def deployment(tmp_path_factory: pytest.TempPathFactory, fake_github: FakeGitHub,
               fake_oidc: FakeOidcProvider, wayf: SamlIdentityProvider,
               deploy_mail: tuple[int, Received]) -> Iterator[Deployment]:
    installation = Installation(
        env_values={
            # The tests stand for a balancer on loopback in front of the proxy: the
            # address a client says it comes from is believed from there.
            "PROXY_TRUSTED_ADDRESSES": "127.0.0.1",
            # An upstream that defers is retried after seconds, not minutes.
            "RELAY_BACKOFF_FIRST": "2", "RELAY_BACKOFF_MAX": "5",
            "GITHUB_BASE_URL": fake_github.url, "GITHUB_API_URL": fake_github.api_url,
            "WAYF_METADATA_URL": wayf.signed_metadata_url, "WAYF_ENTITY_ID": wayf.entity_id,
            "WAYF_METADATA_SIGNER": wayf.metadata_signer_fingerprint},
        issuer=fake_oidc.issuer,
        secrets={"oauth/github": fake_github.client_secret,
                 "oauth/oidc": fake_oidc.client.client_secret,
                 "oauth/google": "dummy-google-secret",
                 "oauth/microsoft": "dummy-microsoft-secret"})
    with running_deployment(tmp_path_factory.mktemp("deployment"), installation,
                            ROOT / "test-artifacts" / "deploy", deploy_mail) as stack:
        print(f"README steps to a healthy stack: {stack.ready_seconds:.0f} s",
              file=sys.stderr)
        descriptor = stack.public_session().get(
            f"{PUBLIC_URL}/realms/{REALM}/broker/wayf/endpoint/descriptor", timeout=10)
        descriptor.raise_for_status()
        wayf.trust_service_provider(descriptor.text)  # as WAYF registers its SPs
        yield stack


@pytest.fixture
def public(deployment: Deployment) -> requests.Session:
    """A client of the public entry that trusts the deployment's self-signed certificate."""
    return deployment.public_session()
