"""Realm JSON as teams write it by hand for other config-as-code tools (issue 21): realm
names with capitals, objects without ids or paths, documents that leave things out, and
declared maps and lists that shrink. Each test is a bug seen once, through the CLI as a
user runs it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.realm_cli import Ran, run_idpack


@pytest.fixture
def realm_name(fresh_realm_name: str) -> str:
    return fresh_realm_name


@pytest.fixture
def capitals_realm_name(keycloak_admin: KeycloakAdminClient) -> Iterator[str]:
    """A realm name with capitals, as teams name realms; the realm is removed after."""
    name = f"realmWithRoles{secrets.token_hex(2).upper()}"
    try:
        yield name
    finally:
        if name in keycloak_admin.realm_names():
            keycloak_admin.delete_realm(name)


def write(path: Path, document: dict[str, Any]) -> str:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path)


def apply_then_plan(keycloak: KeycloakTarget, path: str) -> Ran:
    applied = run_idpack(keycloak, "realm", "apply", "-f", path, "--auto-approve")
    assert applied.code == 0, applied.output
    return run_idpack(keycloak, "realm", "plan", "-f", path)


def test_a_realm_named_with_capitals_gets_its_default_roles(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        capitals_realm_name: str, tmp_path: Path) -> None:
    """Keycloak names the default role after the realm in lower case."""
    realm_name = capitals_realm_name
    default_role = f"default-roles-{realm_name.lower()}"
    path = write(tmp_path / "realm.json", {
        "realm": realm_name, "enabled": True,
        "roles": {"realm": [{"name": "USER", "attributes": {"tier": ["basic"]}},
                            {"name": default_role, "composite": True,
                             "composites": {"realm": ["USER", "offline_access"]}}]},
        "defaultRole": {"name": default_role}})

    again = apply_then_plan(keycloak, path)

    assert again.code == 0, again.output
    api = keycloak_admin.realm(realm_name)
    held = api.role_composites(api.role(default_role)["id"])
    assert sorted(r["name"] for r in held if not r.get("clientRole")) == [
        "USER", "offline_access"]


def test_a_realm_file_named_with_capitals_sets_its_default_roles(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        capitals_realm_name: str, tmp_path: Path) -> None:
    path = tmp_path / "realm.yaml"
    path.write_text(f"realm: {capitals_realm_name}\nroles: {{USER: {{}}}}\n"
                    "defaultRoles: [USER, offline_access]\n", encoding="utf-8")

    again = apply_then_plan(keycloak, str(path))

    assert again.code == 0, again.output
    api = keycloak_admin.realm(capitals_realm_name)
    held = api.role_composites(api.role(f"default-roles-{capitals_realm_name.lower()}")["id"])
    assert sorted(r["name"] for r in held if not r.get("clientRole")) == [
        "USER", "offline_access"]


def test_a_flow_without_ids_plans(keycloak: KeycloakTarget, realm_name: str,
                                  tmp_path: Path) -> None:
    """Ids are Keycloak's: hand-written JSON has none."""
    path = write(tmp_path / "realm.json", {
        "realm": realm_name,
        "authenticationFlows": [
            {"alias": "team browser", "providerId": "basic-flow", "topLevel": True,
             "builtIn": False, "authenticationExecutions": [
                 {"authenticator": "auth-cookie", "requirement": "ALTERNATIVE",
                  "priority": 10, "authenticatorFlow": False},
                 {"flowAlias": "team forms", "requirement": "ALTERNATIVE", "priority": 20,
                  "authenticatorFlow": True}]},
            {"alias": "team forms", "providerId": "basic-flow", "topLevel": False,
             "builtIn": False, "authenticationExecutions": [
                 {"authenticator": "auth-username-password-form", "requirement": "REQUIRED",
                  "priority": 10, "authenticatorFlow": False}]}],
        "browserFlow": "team browser",
        "clients": [{"clientId": "portal", "publicClient": True,
                     "authenticationFlowBindingOverrides": {"browser": "team browser"}}]})

    planned = run_idpack(keycloak, "realm", "plan", "-f", path)

    assert planned.code == 2, planned.output
    assert "+ authentication flow team browser" in planned.stdout


def test_groups_without_paths_plan(keycloak: KeycloakTarget, realm_name: str,
                                   tmp_path: Path) -> None:
    """A group's path follows from the tree: hand-written JSON has none."""
    path = write(tmp_path / "realm.json", {
        "realm": realm_name, "groups": [{"name": "staff", "subGroups": [{"name": "admins"}]}]})

    planned = run_idpack(keycloak, "realm", "plan", "-f", path)

    assert planned.code == 2, planned.output
    assert "+ group /staff/admins" in planned.stdout


def test_a_wrong_field_deep_in_the_tree_is_named_by_its_place_in_the_json(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm_name: str,
        tmp_path: Path) -> None:
    path = write(tmp_path / "realm.json", {
        "realm": realm_name,
        "groups": [{"name": "a"}, {"name": "b"},
                   {"name": "c", "subGroups": [{"name": "d", "attributes": "x"}]}]})

    planned = run_idpack(keycloak, "realm", "plan", "-f", path)

    assert planned.code == 1, planned.output
    assert f"{path}: groups[2].subGroups[0].attributes: " in planned.stderr
    assert "Traceback" not in planned.output
    assert realm_name not in keycloak_admin.realm_names()


def test_a_document_without_default_roles_leaves_them_and_settles(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm_name: str,
        tmp_path: Path) -> None:
    path = write(tmp_path / "realm.json", {"realm": realm_name, "displayName": "Roles"})

    again = apply_then_plan(keycloak, path)

    assert again.code == 0, again.output
    api = keycloak_admin.realm(realm_name)
    held = api.role_composites(api.role(f"default-roles-{realm_name.lower()}")["id"])
    assert {"offline_access", "uma_authorization"} <= {r["name"] for r in held}


def test_a_role_attribute_dropped_from_the_file_is_dropped_in_keycloak(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm_name: str,
        tmp_path: Path) -> None:
    def role(attributes: dict[str, list[str]]) -> dict[str, Any]:
        return {"realm": realm_name, "roles": {"realm": [
            {"name": "USER", "attributes": attributes}]}}

    apply_then_plan(keycloak, write(tmp_path / "1.json", role(
        {"tier": ["basic"], "legacy": ["yes"]})))

    again = apply_then_plan(keycloak, write(tmp_path / "2.json", role({"tier": ["basic"]})))

    assert again.code == 0, again.output
    assert keycloak_admin.realm(realm_name).role("USER")["attributes"] == {"tier": ["basic"]}


def test_scope_mappings_dropped_from_the_file_are_dropped_in_keycloak(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm_name: str,
        tmp_path: Path) -> None:
    document: dict[str, Any] = {
        "realm": realm_name, "roles": {"realm": [{"name": "USER"}, {"name": "ADMIN"}]},
        "clients": [{"clientId": "dashboard", "publicClient": True, "fullScopeAllowed": False}],
        "scopeMappings": [{"client": "dashboard", "roles": ["USER", "ADMIN"]}]}
    apply_then_plan(keycloak, write(tmp_path / "1.json", document))

    document["scopeMappings"] = [{"client": "dashboard", "roles": ["USER"]}]
    again = apply_then_plan(keycloak, write(tmp_path / "2.json", document))
    document["scopeMappings"] = []
    emptied = apply_then_plan(keycloak, write(tmp_path / "3.json", document))

    assert (again.code, emptied.code) == (0, 0), again.output + emptied.output
    api = keycloak_admin.realm(realm_name)
    dashboard = api.client_by_client_id("dashboard")
    assert dashboard is not None
    assert api.scope_mappings(f"clients/{dashboard['id']}").get("realmMappings") in (None, [])


def test_a_client_policies_document_is_the_whole_list(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, realm_name: str,
        tmp_path: Path) -> None:
    def policy(name: str) -> dict[str, Any]:
        return {"name": name, "enabled": True, "profiles": ["pkce"], "conditions": [
            {"condition": "client-access-type", "configuration": {"type": ["public"]}}]}

    document: dict[str, Any] = {
        "realm": realm_name,
        "clientProfiles": {"profiles": [{"name": "pkce", "executors": [
            {"executor": "pkce-enforcer", "configuration": {"auto-configure": "true"}}]}]},
        "clientPolicies": {"policies": [policy("first"), policy("second")]}}
    apply_then_plan(keycloak, write(tmp_path / "1.json", document))

    document["clientPolicies"] = {"policies": [policy("second")]}
    again = apply_then_plan(keycloak, write(tmp_path / "2.json", document))

    assert again.code == 0, again.output
    assert [p["name"] for p in keycloak_admin.realm(realm_name).client_policy_documents(
        "policies")] == ["second"]
