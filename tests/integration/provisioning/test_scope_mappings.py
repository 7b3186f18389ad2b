"""Scope mappings against the real Keycloak: the roles a client without full scope may
put in its tokens (realm roles, another client's roles), and a client scope's;
created, changed as exactly that list, drift repaired, export round-trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from idpack.keycloak.admin import KeycloakAdminClient
from provisioning.config import LoadedConfig, load_config
from provisioning.export import export_realm
from tests.support.realm import apply, plan, realm_from, written

REALM_FILE = """
realm: {realm}
settings: {{enabled: true}}
roles:
  USER: {{}}
  ADMIN: {{}}
clients:
  billing: {{publicClient: true, standardFlowEnabled: false}}
  dashboard: {{publicClient: true, fullScopeAllowed: false, redirectUris: ["https://d.example/*"]}}
clientRoles:
  billing:
    invoices-read: {{}}
    invoices-write: {{}}
clientScopes:
  billing-read: {{description: Read access to billing}}
scopeMappings:
  clients:
    dashboard: {{realm: [USER], clients: {{billing: [invoices-read]}}}}
  clientScopes:
    billing-read: {{clients: {{billing: [invoices-read]}}}}
"""


def loaded(path: Path, realm: str, text: str = REALM_FILE) -> LoadedConfig:
    return written(path, text.format(realm=realm), {}, realm)


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with realm_from(keycloak_admin, loaded(
            tmp_path_factory.mktemp("scopes") / "realm.yaml", "t-scope-mappings")) as name:
        yield name


def mappings(admin: KeycloakAdminClient, realm: str) -> dict[str, Any]:
    api = admin.realm(realm)
    dashboard = api.client_by_client_id("dashboard")
    assert dashboard is not None
    found: dict[str, Any] = admin.send(
        "GET", f"/admin/realms/{realm}/clients/{dashboard['id']}/scope-mappings")
    return found


def test_created_changed_and_drift_repaired(keycloak_admin: KeycloakAdminClient, realm: str,
                                            tmp_path: Path) -> None:
    found = mappings(keycloak_admin, realm)
    assert [r["name"] for r in found["realmMappings"]] == ["USER"]
    assert plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm)).empty

    changed = REALM_FILE.replace("realm: [USER]", "realm: [USER, ADMIN]")
    result = plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm, changed))
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("scope mappings client dashboard", ["roles"])]

    api = keycloak_admin.realm(realm)
    scope = api.client_scope_by_name("billing-read")
    assert scope is not None
    billing = api.client_by_client_id("billing")
    assert billing is not None
    api.change_scope_mappings(f"client-scopes/{scope['id']}",
                              [api.client_role(billing["id"], "invoices-write")], add=True,
                              owner_uuid=billing["id"])
    config = loaded(tmp_path / "r.yaml", realm)
    assert [c.title for c in plan(keycloak_admin, config).changes] == [
        "scope mappings clientScope billing-read"]
    apply(keycloak_admin, config)
    assert plan(keycloak_admin, config).empty


def test_the_export_round_trips(keycloak_admin: KeycloakAdminClient, realm: str,
                                tmp_path: Path) -> None:
    exported = export_realm(keycloak_admin.realm(realm))
    assert exported["scopeMappings"]["clients"]["dashboard"] == {
        "realm": ["USER"], "clients": {"billing": ["invoices-read"]}}
    path = tmp_path / "exported.yaml"
    path.write_text(yaml.safe_dump(exported))
    assert plan(keycloak_admin, load_config([path], {}, realm=realm)).empty
