"""WAYF's way in, as production declares it: the provider's metadata fetched from the
federation's URL, believed only when signed by the pinned metadata-signing key, and
followed by `idpack realm refresh-metadata` when the federation rotates the key its
assertions are signed with. A local SAML identity provider (tests/fakes/saml_idp.py)
stands in for WAYF's hub; the CLI runs as CI and the deployment's services run it."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.fakes.saml_idp import SamlIdentityProvider, saml_identity_provider
from tests.support.realm import idpack

REALM_FILE = """\
realm: {realm}
identityProviders:
  wayf:
    providerId: saml
    displayName: WAYF
    enabled: true
    metadata:
      url: ${{env:WAYF_METADATA_URL}}
      entityId: ${{env:WAYF_ENTITY_ID}}
      signedBy: ["${{env:WAYF_METADATA_SIGNER}}"]
    config:
      principalType: ATTRIBUTE
      principalAttribute: urn:oid:1.3.6.1.4.1.5923.1.1.1.10
      validateSignature: true
"""


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdentityProvider]:
    with saml_identity_provider(tmp_path_factory.mktemp("wayf")) as running:
        yield running


def env_for(idp: SamlIdentityProvider) -> dict[str, str]:
    return {"WAYF_METADATA_URL": idp.signed_metadata_url, "WAYF_ENTITY_ID": idp.entity_id,
            "WAYF_METADATA_SIGNER": idp.metadata_signer_fingerprint}


def signing_certificate(admin: KeycloakAdminClient, realm: str) -> str:
    found: dict[str, dict[str, str]] = admin.send(
        "GET", f"/admin/realms/{realm}/identity-provider/instances/wayf")
    return found["config"]["signingCertificate"]


def test_signed_metadata_is_applied_and_a_rotated_key_is_followed(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str, idp: SamlIdentityProvider, tmp_path: Path) -> None:
    realm_file = tmp_path / "wayf.yaml"
    realm_file.write_text(REALM_FILE.format(realm=fresh_realm_name))
    env = env_for(idp)

    applied = idpack(keycloak, "realm", "apply", "-f", str(realm_file), "--auto-approve",
                     env=env)
    assert applied.returncode == 0, applied.stderr
    assert signing_certificate(keycloak_admin, fresh_realm_name) == idp.signing_certificate()
    idp_config = keycloak_admin.send(
        "GET", f"/admin/realms/{fresh_realm_name}/identity-provider/instances/wayf")["config"]
    assert idp_config["singleSignOnServiceUrl"] == idp.sso_url

    refreshed = idpack(keycloak, "realm", "refresh-metadata", "-f", str(realm_file), env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "wayf: metadata" in refreshed.stderr
    assert "verified; no change." in refreshed.stderr

    old = idp.signing_certificate()
    idp.rotate_signing_key()
    assert idp.signing_certificate() != old

    refreshed = idpack(keycloak, "realm", "refresh-metadata", "-f", str(realm_file), env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "applied: config.signingCertificate" in refreshed.stderr
    assert signing_certificate(keycloak_admin, fresh_realm_name) == idp.signing_certificate()
    in_sync = idpack(keycloak, "realm", "plan", "-f", str(realm_file), env=env)
    assert in_sync.returncode == 0, in_sync.stdout + in_sync.stderr


def test_metadata_that_is_not_believed_changes_nothing_and_says_why(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str, idp: SamlIdentityProvider, tmp_path: Path) -> None:
    realm_file = tmp_path / "wayf.yaml"
    realm_file.write_text(REALM_FILE.format(realm=fresh_realm_name))
    env = env_for(idp)
    assert idpack(keycloak, "realm", "apply", "-f", str(realm_file), "--auto-approve",
                  env=env).returncode == 0
    before = signing_certificate(keycloak_admin, fresh_realm_name)
    idp.rotate_signing_key()  # what each bad document would bring in
    someone_else = {**env, "WAYF_METADATA_SIGNER": "sha256:" + ":".join(["AB"] * 32)}
    cases = [
        ("plan", env, "does not verify",
         idp.signed_metadata().replace(idp.sso_url.encode(), b"https://evil.example.com/sso")),
        ("plan", env, "expired", idp.signed_metadata(valid_for=datetime.timedelta(minutes=-5))),
        ("plan", env, "not signed", idp.metadata_xml().encode()),
        ("plan", someone_else, "no certificate pinned", idp.signed_metadata()),
        ("refresh-metadata", env, "not signed", idp.metadata_xml().encode()),
    ]
    try:
        for command, command_env, reason, document in cases:
            idp.published = document
            refused = idpack(keycloak, "realm", command, "-f", str(realm_file), env=command_env)
            assert refused.returncode == 1, (reason, refused.stdout + refused.stderr)
            assert f"identityProviders.wayf.metadata: {idp.signed_metadata_url}: refused, " \
                   "nothing was changed" in refused.stderr
            assert reason in refused.stderr
            assert "Traceback" not in refused.stderr
        assert signing_certificate(keycloak_admin, fresh_realm_name) == before
    finally:
        idp.published = None
