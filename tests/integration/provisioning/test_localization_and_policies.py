"""Localization texts and client profiles and policies against the real Keycloak:
created, a one-field change planned as that field, drift made through the Admin API
found and repaired, pruning of undeclared entries only with prune, export round-trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from idpack.keycloak.admin import KeycloakAdminClient
from provisioning.config import LoadedConfig, load_config
from provisioning.export import export_realm
from tests.support.realm import apply, plan, realm_from, written

REALM_FILE = """
realm: {realm}
settings: {{enabled: true, internationalizationEnabled: true, supportedLocales: [en, da]}}
localizationTexts:
  en: {{loginTitle: Sign in to MikroCloud, welcome: Welcome}}
  da: {{loginTitle: Log ind på MikroCloud}}
clientProfiles:
  mikrocloud-pkce:
    description: Public clients use PKCE with S256
    executors:
      - executor: pkce-enforcer
        configuration: {{auto-configure: "true"}}
clientPolicies:
  mikrocloud-public-clients:
    description: Every public client
    enabled: true
    conditions:
      - condition: client-access-type
        configuration: {{type: [public]}}
    profiles: [mikrocloud-pkce]
"""


def loaded(path: Path, realm: str, text: str = REALM_FILE) -> LoadedConfig:
    return written(path, text.format(realm=realm), {}, realm)


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with realm_from(keycloak_admin, loaded(
            tmp_path_factory.mktemp("l10n") / "realm.yaml", "t-localization-policies")) as name:
        yield name


def test_everything_is_created(keycloak_admin: KeycloakAdminClient, realm: str,
                               tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    assert api.localization_texts("da") == {"loginTitle": "Log ind på MikroCloud"}
    assert api.localization_texts("en")["welcome"] == "Welcome"
    [profile] = api.client_policy_documents("profiles")
    assert profile["executors"] == [{"executor": "pkce-enforcer",
                                     "configuration": {"auto-configure": "true"}}]
    [policy] = api.client_policy_documents("policies")
    assert policy["profiles"] == ["mikrocloud-pkce"]
    assert plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm)).empty


def test_a_one_field_change_is_planned_as_that_field(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    changed = REALM_FILE.replace("welcome: Welcome", "welcome: Hello").replace(
        "Every public client", "All public clients")
    result = plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm, changed))
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("localization en", ["welcome"]),
        ("client policy mikrocloud-public-clients", ["description"])]


def test_drift_made_in_the_admin_api_is_found_and_repaired(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    api.set_localization_texts("en", {"welcome": "Howdy"})
    [policy] = api.client_policy_documents("policies")
    api.put_client_policy_documents("policies", [{**policy, "enabled": False}])
    config = loaded(tmp_path / "r.yaml", realm)
    result = plan(keycloak_admin, config)
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("localization en", ["welcome"]),
        ("client policy mikrocloud-public-clients", ["enabled"])]
    apply(keycloak_admin, config)
    assert plan(keycloak_admin, config).empty


def test_declared_texts_and_documents_are_whole_and_undeclared_locales_go_with_prune(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    api.set_localization_texts("en", {"stray": "Left by hand"})
    api.set_localization_texts("de", {"loginTitle": "Anmelden"})
    profiles = api.client_policy_documents("profiles")
    api.put_client_policy_documents("profiles", [*profiles, {
        "name": "by-hand", "description": "made in the console", "executors": []}])
    config = loaded(tmp_path / "r.yaml", realm)

    declared = apply(keycloak_admin, config)
    assert sorted((c.title, c.action) for c in declared.changes) == [
        ("client profile by-hand", "delete"), ("localization en", "update")]
    assert "stray" not in api.localization_texts("en")
    assert [p["name"] for p in api.client_policy_documents("profiles")] == ["mikrocloud-pkce"]
    assert api.localization_texts("de") == {"loginTitle": "Anmelden"}  # not declared: left

    pruned = apply(keycloak_admin, config, prune_all=True)
    assert [(c.title, c.action) for c in pruned.changes] == [("localization de", "delete")]
    assert plan(keycloak_admin, config, prune_all=True).empty


def test_the_export_round_trips(keycloak_admin: KeycloakAdminClient, realm: str,
                                tmp_path: Path) -> None:
    exported = export_realm(keycloak_admin.realm(realm))
    assert exported["localizationTexts"]["da"] == {"loginTitle": "Log ind på MikroCloud"}
    assert exported["clientPolicies"]["mikrocloud-public-clients"]["profiles"] == [
        "mikrocloud-pkce"]
    path = tmp_path / "exported.yaml"
    path.write_text(yaml.safe_dump(exported, allow_unicode=True))
    assert plan(keycloak_admin, load_config([path], {}, realm=realm)).empty
