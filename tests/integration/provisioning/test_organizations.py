"""Organizations (Keycloak 26) against the real Keycloak: created with a domain and a
linked identity provider; a one-field change planned as that field; drift found and
repaired; pruned only with prune; export round-trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from idpack.keycloak.admin import KeycloakAdminClient
from provisioning.config import LoadedConfig, load_config
from provisioning.export import export_realm
from tests.support.realm import apply, plan, realm_from, written

SECRETS = {"PARTNER_SECRET": "partner-secret-1"}
REALM_FILE = """
realm: {realm}
settings: {{enabled: true, organizationsEnabled: true}}
identityProviders:
  partner-idp:
    providerId: oidc
    enabled: true
    clientSecret: ${{env:PARTNER_SECRET}}
    config:
      clientId: mikrocloud
      authorizationUrl: https://id.partner.example/authorize
      tokenUrl: https://id.partner.example/token
organizations:
  Partner University:
    alias: partner-university
    enabled: true
    description: A partner university
    attributes: {{contract: [c-2026-17]}}
    domains: [{{name: partner.example, verified: false}}]
    identityProviders: [partner-idp]
"""


def loaded(path: Path, realm: str, text: str = REALM_FILE) -> LoadedConfig:
    return written(path, text.format(realm=realm), SECRETS, realm)


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with realm_from(keycloak_admin, loaded(
            tmp_path_factory.mktemp("orgs") / "realm.yaml", "t-organizations")) as name:
        yield name


def test_the_organization_is_created(keycloak_admin: KeycloakAdminClient, realm: str,
                                     tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    [org] = api.organizations()
    assert org["alias"] == "partner-university"
    assert [d["name"] for d in org["domains"]] == ["partner.example"]
    assert [p["alias"] for p in api.organization_identity_providers(org["id"])] == [
        "partner-idp"]
    assert plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm)).empty


def test_a_one_field_change_is_planned_as_that_field(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    changed = REALM_FILE.replace("A partner university", "Our partner university")
    result = plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm, changed))
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("organization Partner University", ["description"])]


def test_drift_is_found_and_repaired(keycloak_admin: KeycloakAdminClient, realm: str,
                                     tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    [org] = api.organizations()
    api.link_organization_identity_provider(org["id"], "partner-idp", False)
    api.update_organization(org["id"], {**org, "domains": [
        {"name": "partner.example"}, {"name": "elsewhere.example"}]})
    config = loaded(tmp_path / "r.yaml", realm)
    result = plan(keycloak_admin, config)
    assert [(c.title, sorted(f.path for f in c.fields)) for c in result.changes] == [
        ("organization Partner University", ["domains", "identityProviders"])]
    apply(keycloak_admin, config)
    assert plan(keycloak_admin, config).empty


def test_prune_and_export(keycloak_admin: KeycloakAdminClient, realm: str,
                          tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    api.create_organization({"name": "By Hand", "alias": "by-hand",
                             "domains": [{"name": "byhand.example"}]})
    config = loaded(tmp_path / "r.yaml", realm)
    assert plan(keycloak_admin, config).empty
    result = apply(keycloak_admin, config, prune_all=True)
    assert [(c.title, c.action) for c in result.changes] == [
        ("organization By Hand", "delete")]
    exported = export_realm(api)
    assert exported["organizations"]["Partner University"]["identityProviders"] == [
        "partner-idp"]
    path = tmp_path / "exported.yaml"
    path.write_text(yaml.safe_dump(exported))
    env = {"PARTNER_IDP_CLIENT_SECRET": SECRETS["PARTNER_SECRET"]}
    assert plan(keycloak_admin, load_config([path], env, realm=realm)).empty
