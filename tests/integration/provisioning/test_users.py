"""Declared users against the real Keycloak: a break-glass account created with its
groups, roles, attributes and a password from a secret reference (set on create only);
a one-field change; drift repaired; never pruned, only removed by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import password_grant
from idpack.keycloak.target import KeycloakTarget
from provisioning.config import LoadedConfig
from tests.support.realm import apply, plan, realm_from, written

PASSWORD = "Break-Glass-2026!"
REALM_FILE = """
realm: {realm}
settings: {{enabled: true}}
userProfile: {{unmanagedAttributePolicy: ENABLED}}  # the users' own attributes are kept
roles:
  ADMIN: {{description: Administrators}}
clients:
  billing: {{publicClient: true, standardFlowEnabled: false}}
clientRoles:
  billing:
    invoices-read: {{}}
groups:
  /staff: {{}}
  /staff/admins: {{}}
users:
  break-glass:
    email: break-glass@example.org
    emailVerified: true
    enabled: true
    firstName: Break
    lastName: Glass
    attributes: {{purpose: [emergency access]}}
    groups: [/staff/admins]
    realmRoles: [ADMIN]
    clientRoles: {{billing: [invoices-read]}}
    password: ${{env:BREAK_GLASS_PASSWORD}}
"""


def loaded(path: Path, realm: str, text: str = REALM_FILE,
           password: str = PASSWORD) -> LoadedConfig:
    return written(path, text.format(realm=realm), {"BREAK_GLASS_PASSWORD": password}, realm)


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with realm_from(keycloak_admin, loaded(
            tmp_path_factory.mktemp("users") / "realm.yaml", "t-users")) as name:
        yield name


def test_the_user_is_created_whole(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
                                   realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    [user] = api.users_by_username("break-glass")
    assert user["attributes"]["purpose"] == ["emergency access"]
    assert [g["path"] for g in api.user_groups(user["id"])] == ["/staff/admins"]
    mappings = api.role_mappings(user["id"])
    assert "ADMIN" in {r["name"] for r in mappings["realmMappings"]}
    assert [r["name"] for r in mappings["clientMappings"]["billing"]["mappings"]] == [
        "invoices-read"]
    token = password_grant(keycloak.url, realm, "admin-cli", None, "break-glass", PASSWORD)
    assert token.status_code == 200, token.text
    assert plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm)).empty


def test_the_password_is_set_on_create_only(keycloak_admin: KeycloakAdminClient, realm: str,
                                            tmp_path: Path) -> None:
    config = loaded(tmp_path / "r.yaml", realm, password="Another-Secret-9!")
    assert plan(keycloak_admin, config).empty


def test_a_one_field_change_and_drift(keycloak_admin: KeycloakAdminClient, realm: str,
                                      tmp_path: Path) -> None:
    changed = REALM_FILE.replace("firstName: Break", "firstName: Emergency")
    result = plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm, changed))
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("user break-glass", ["firstName"])]
    api = keycloak_admin.realm(realm)
    [user] = api.users_by_username("break-glass")
    api.set_user_group(user["id"], api.group_by_path("/staff/admins")["id"], False)
    api.set_user_group(user["id"], api.group_by_path("/staff")["id"], True)
    api.remove_realm_role_mappings(user["id"], [api.role("ADMIN")])
    config = loaded(tmp_path / "r.yaml", realm)
    result = plan(keycloak_admin, config)
    assert [(c.title, sorted(f.path for f in c.fields)) for c in result.changes] == [
        ("user break-glass", ["groups", "realmRoles"])]
    apply(keycloak_admin, config)
    assert plan(keycloak_admin, config).empty


def test_users_are_never_pruned_only_removed_by_name(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    api.create_user({"username": "someone", "enabled": True})
    config = loaded(tmp_path / "r.yaml", realm)
    assert plan(keycloak_admin, config, prune_all=True).empty
    removing = loaded(tmp_path / "r.yaml", realm, REALM_FILE + "removedUsers: [someone]\n")
    result = apply(keycloak_admin, removing)
    assert [(c.title, c.action) for c in result.changes] == [("user someone", "delete")]
    assert api.users_by_username("someone") == []
    assert plan(keycloak_admin, removing).empty
