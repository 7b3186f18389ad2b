"""Keycloak's own realm JSON as input. The MikroCloud realm (flows, bindings, clients,
identity providers, user profile, ...), with groups, client roles, composites, scope
mappings, localization, client policies, an LDAP federation, a key provider and an
organization besides, is exported by Keycloak 26.7 (its partial export: secrets
masked); `idpack realm convert` turns the JSON into idpack's YAML, `plan -f
realm.json` reads it as it is, apply makes a copy of the realm from it on the same
server, and a second plan finds nothing to change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from provisioning.realm_json import convert
from tests.support.realm import SECRETS, apply, idpack, load

EXTRAS = """
clientRoles:
  idpack-sidecar:
    lookup: {description: Look users up}
    manage: {composites: {client: {idpack-sidecar: [lookup]}}}
groups:
  /staff: {attributes: {department: [operations]}, realmRoles: [USER]}
  /staff/admins: {realmRoles: [ADMIN], clientRoles: {idpack-sidecar: [manage]}}
defaultGroups: [/staff]
localizationTexts:
  da: {loginTitle: Log ind på MikroCloud}
clientProfiles:
  pkce: {executors: [{executor: pkce-enforcer, configuration: {auto-configure: "true"}}]}
clientPolicies:
  public-clients:
    enabled: true
    conditions: [{condition: client-access-type, configuration: {type: [public]}}]
    profiles: [pkce]
scopeMappings:
  clients:
    portal: {clients: {idpack-sidecar: [lookup]}}
components:
  org.keycloak.storage.UserStorageProvider:
    corp-ldap:
      providerId: ldap
      config:
        enabled: ["false"]
        vendor: [other]
        connectionUrl: ["ldap://127.0.0.1:1"]
        bindDn: ["cn=idpack,dc=example,dc=org"]
        bindCredential: ["${env:LDAP_BIND_CREDENTIAL}"]
        usersDn: ["ou=people,dc=example,dc=org"]
        usernameLDAPAttribute: [uid]
        rdnLDAPAttribute: [uid]
        uuidLDAPAttribute: [entryUUID]
        userObjectClasses: ["inetOrgPerson, organizationalPerson"]
        editMode: [READ_ONLY]
        authType: [simple]
  org.keycloak.keys.KeyProvider:
    mikrocloud-rsa:
      providerId: rsa-generated
      config: {priority: ["150"], keySize: ["2048"]}
settings: {organizationsEnabled: true}
organizations:
  Partner University:
    alias: partner-university
    domains: [{name: partner.example}]
    identityProviders: [wayf]
"""
SOURCE, COPY = "t-json-source", "t-json-copy"


@pytest.fixture(scope="module")
def exported(keycloak_admin: KeycloakAdminClient,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keycloak's JSON of the source realm, in a file."""
    work = tmp_path_factory.mktemp("json")
    extras = work / "extras.yaml"
    extras.write_text(EXTRAS)
    for name in (SOURCE, COPY):
        if name in keycloak_admin.realm_names():
            keycloak_admin.delete_realm(name)
    apply(keycloak_admin, load(SOURCE, extras,
                               env={**SECRETS, "LDAP_BIND_CREDENTIAL": "bind-secret-1"}))
    api = keycloak_admin.realm(SOURCE)
    document = api.export(clients=True, roles=True)
    # The partial export leaves organizations out; a full export (kc.sh export) writes
    # them with their identity providers, as added here from the Admin API.
    assert not document.get("organizations")
    document["organizations"] = [
        {**org, "identityProviders": api.organization_identity_providers(org["id"])}
        for org in api.organizations()]
    path = work / "realm-export.json"
    path.write_text(json.dumps(document, indent=2))
    try:
        yield path
    finally:
        for name in (SOURCE, COPY):
            if name in keycloak_admin.realm_names():
                keycloak_admin.delete_realm(name)


def test_convert_writes_references_and_lists_what_it_leaves(
        keycloak: KeycloakTarget, exported: Path, tmp_path: Path) -> None:
    done = idpack(keycloak, "realm", "convert", str(exported), "-o", str(tmp_path / "r.yaml"))
    assert done.returncode == 0, done.stderr
    # The partial export masks every secret: left out, with a warning each.
    assert "client idpack-sidecar: the secret is masked" in done.stderr
    assert "identity provider google: the secret is masked" in done.stderr
    assert "Not managed by idpack" in done.stderr
    written = yaml.safe_load((tmp_path / "r.yaml").read_text())
    assert written["realm"] == SOURCE
    assert "id" not in written["clients"]["portal"]
    # The export's empty maps are declarations too: /staff/admins has no attributes.
    assert written["groups"]["/staff/admins"] == {
        "attributes": {}, "realmRoles": ["ADMIN"], "clientRoles": {"idpack-sidecar": ["manage"]}}
    assert written["clientRoles"]["idpack-sidecar"]["manage"]["composites"] == {
        "client": {"idpack-sidecar": ["lookup"]}}
    assert written["settings"]["browserFlow"] == "mikrocloud browser"
    assert "mikrocloud browser" in written["authenticationFlows"]
    assert written["localizationTexts"] == {"da": {"loginTitle": "Log ind på MikroCloud"}}


def test_a_secret_the_json_holds_becomes_a_reference_with_its_value() -> None:
    converted = convert({"realm": "r", "clients": [
        {"clientId": "billing", "secret": "s3cret-value", "publicClient": False}]})
    assert converted.document["clients"]["billing"]["secret"] == \
        "${env:BILLING_CLIENT_SECRET}"
    assert converted.secrets == {"BILLING_CLIENT_SECRET": "s3cret-value"}


def test_the_json_applies_to_an_empty_realm_and_then_plans_no_changes(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient, exported: Path) -> None:
    first = idpack(keycloak, "realm", "apply", "-f", str(exported), "--realm", COPY,
                   "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    again = idpack(keycloak, "realm", "plan", "-f", str(exported), "--realm", COPY)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "no changes" in again.stdout
    api = keycloak_admin.realm(COPY)
    assert api.group_by_path("/staff/admins")["path"] == "/staff/admins"
    assert api.get()["browserFlow"] == "mikrocloud browser"
    assert api.components(type_="org.keycloak.storage.UserStorageProvider", name="corp-ldap")
    assert [o["name"] for o in api.organizations()] == ["Partner University"]
