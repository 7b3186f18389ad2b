"""Groups (a tree by path, attributes, realm and client role mappings, default groups),
client roles, composite roles and the realm's default client scopes, against the real
Keycloak: created, a one-field change planned as that field, drift made through the
Admin API found and repaired, pruning limited to the declared kinds, export round-trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from idpack.keycloak.admin import KeycloakAdminClient
from provisioning.config import LoadedConfig, load_config
from provisioning.export import export_realm
from tests.support.realm import apply, plan, realm_from, written

SECRETS = {"BILLING_CLIENT_SECRET": "billing-secret-1"}
REALM_FILE = """
realm: {realm}
settings: {{enabled: true}}
roles:
  USER: {{description: Every MikroCloud user}}
  ADMIN:
    description: Administrators
    composites:
      realm: [USER]
      client: {{billing: [invoices-read]}}
clients:
  billing:
    publicClient: false
    standardFlowEnabled: false
    secret: ${{env:BILLING_CLIENT_SECRET}}
clientRoles:
  billing:
    invoices-read: {{description: Read invoices}}
    invoices-write:
      description: Write invoices
      composites: {{client: {{billing: [invoices-read]}}}}
clientScopes:
  mikrocloud-extra: {{description: An extra scope}}
defaultDefaultClientScopes: [profile, email, roles, web-origins, acr, basic]
defaultOptionalClientScopes: [mikrocloud-extra, offline_access]
groups:
  /staff:
    attributes: {{department: [operations]}}
    realmRoles: [USER]
  /staff/admins:
    realmRoles: [ADMIN]
    clientRoles: {{billing: [invoices-write]}}
  /staff/admins/on-call: {{}}
  /customers: {{realmRoles: [USER]}}
defaultGroups: [/customers]
"""


def loaded(path: Path, realm: str, text: str = REALM_FILE) -> LoadedConfig:
    return written(path, text.format(realm=realm), SECRETS, realm)


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with realm_from(keycloak_admin, loaded(
            tmp_path_factory.mktemp("groups") / "realm.yaml", "t-groups-roles")) as name:
        yield name


def test_everything_is_created(keycloak_admin: KeycloakAdminClient, realm: str,
                               tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    admins = api.group_by_path("/staff/admins")
    assert api.group_by_path("/staff/admins/on-call")["path"] == "/staff/admins/on-call"
    assert api.group_by_path("/staff")["attributes"] == {"department": ["operations"]}
    mappings = api.group_role_mappings(admins["id"])
    assert [r["name"] for r in mappings["realmMappings"]] == ["ADMIN"]
    assert [r["name"] for r in mappings["clientMappings"]["billing"]["mappings"]] == [
        "invoices-write"]
    assert [g["path"] for g in api.default_groups()] == ["/customers"]
    admin_role = api.role("ADMIN")
    assert admin_role["composite"] is True
    assert sorted(r["name"] for r in api.role_composites(admin_role["id"])) == [
        "USER", "invoices-read"]
    realm_json = api.get()
    assert "mikrocloud-extra" in {s["name"] for s in api.realm_default_scopes("optional")}
    assert realm_json["enabled"] is True
    assert plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm)).empty


def test_a_one_field_change_is_planned_as_that_field(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    changed = REALM_FILE.replace("department: [operations]", "department: [platform]")
    result = plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm, changed))
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("group /staff", ["attributes.department"])]


def test_drift_made_in_the_admin_api_is_found_and_repaired(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    staff = api.group_by_path("/staff")
    api.change_group_roles(staff["id"], [api.role("USER")], add=False)
    uuid = api.client_by_client_id("billing")["id"]  # type: ignore[index]
    write = api.client_role(uuid, "invoices-write")
    api.remove_composites(write["id"], [api.client_role(uuid, "invoices-read")])
    api.set_default_group(staff["id"], True)
    config = loaded(tmp_path / "r.yaml", realm)
    result = plan(keycloak_admin, config)
    assert sorted(c.title for c in result.changes) == [
        "default groups " + realm, "group /staff", "role composites billing/invoices-write"]
    apply(keycloak_admin, config)
    assert plan(keycloak_admin, config).empty


def test_prune_deletes_only_undeclared_groups_and_client_roles(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    api.create_group({"name": "contractors"})
    api.create_group({"name": "temps"}, api.group_by_path("/staff")["id"])
    uuid = api.client_by_client_id("billing")["id"]  # type: ignore[index]
    api.create_client_role(uuid, {"name": "invoices-delete"})
    config = loaded(tmp_path / "r.yaml", realm)
    assert plan(keycloak_admin, config).empty  # not declared: not managed
    result = apply(keycloak_admin, config, prune_all=True)
    assert sorted(c.title for c in result.changes if c.action == "delete") == [
        "client role billing/invoices-delete", "group /contractors", "group /staff/temps"]
    # Keycloak's own clients keep their roles.
    account = api.client_by_client_id("account")["id"]  # type: ignore[index]
    assert "manage-account" in {r["name"] for r in api.client_roles(account)}
    assert plan(keycloak_admin, config, prune_all=True).empty


def test_the_export_round_trips(keycloak_admin: KeycloakAdminClient, realm: str,
                                tmp_path: Path) -> None:
    exported = export_realm(keycloak_admin.realm(realm))
    assert exported["groups"]["/staff/admins"] == {
        "realmRoles": ["ADMIN"], "clientRoles": {"billing": ["invoices-write"]}}
    assert exported["defaultGroups"] == ["/customers"]
    assert exported["roles"]["ADMIN"]["composites"] == {
        "realm": ["USER"], "client": {"billing": ["invoices-read"]}}
    assert exported["clientRoles"]["billing"]["invoices-write"]["composites"] == {
        "client": {"billing": ["invoices-read"]}}
    path = tmp_path / "exported.yaml"
    path.write_text(yaml.safe_dump(exported))
    config = load_config([path], SECRETS, realm=realm)
    assert plan(keycloak_admin, config).empty
