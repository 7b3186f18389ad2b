"""Components against the real Keycloak: an LDAP federation (nothing listens at its URL:
Keycloak stores the configuration without binding) with a mapper of its own, a
generated RSA key with its priority, an imported RSA key whose private key is a secret
reference. Created; a one-field change planned as that field; drift found and
repaired; a changed secret noticed by fingerprint; pruning limited to the declared
types, never Keycloak's own keys; export round-trip."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from idpack.keycloak.admin import KeycloakAdminClient
from provisioning.config import LoadedConfig, load_config
from provisioning.export import export_realm
from tests.support.realm import apply, plan, realm_from, written

LDAP = "org.keycloak.storage.UserStorageProvider"
MAPPER = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper"
KEYS = "org.keycloak.keys.KeyProvider"
REALM_FILE = f"""
realm: {{realm}}
settings: {{{{enabled: true, attributes: {{{{mikrocloud.note: kept}}}}}}}}
components:
  {LDAP}:
    corp-ldap:
      providerId: ldap
      config:
        enabled: ["true"]
        vendor: [other]
        connectionUrl: ["ldap://127.0.0.1:1"]
        bindDn: ["cn=idpack,dc=example,dc=org"]
        bindCredential: ["${{{{env:LDAP_BIND_CREDENTIAL}}}}"]
        usersDn: ["ou=people,dc=example,dc=org"]
        usernameLDAPAttribute: [uid]
        rdnLDAPAttribute: [uid]
        uuidLDAPAttribute: [entryUUID]
        userObjectClasses: ["inetOrgPerson, organizationalPerson"]
        editMode: [READ_ONLY]
        importEnabled: ["true"]
        authType: [simple]
      subComponents:
        {MAPPER}:
          department:
            providerId: user-attribute-ldap-mapper
            config:
              ldap.attribute: [departmentNumber]
              user.model.attribute: [department]
              read.only: ["true"]
              always.read.value.from.ldap: ["true"]
              is.mandatory.in.ldap: ["false"]
  {KEYS}:
    mikrocloud-rsa:
      providerId: rsa-generated
      config: {{{{priority: ["150"], keySize: ["2048"], algorithm: [RS256]}}}}
    mikrocloud-imported:
      providerId: rsa
      config:
        priority: ["90"]
        algorithm: [RS256]
        privateKey: ["${{{{env:IMPORTED_PRIVATE_KEY}}}}"]
        certificate: ["{{certificate}}"]
"""


def key_pair() -> tuple[str, str]:
    """A private key and its self-signed certificate, PEM bodies on one line each."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mikrocloud")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(1)
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
                   .sign(key, hashes.SHA256()))

    def body(pem: bytes) -> str:
        return "".join(line for line in pem.decode().splitlines() if "-----" not in line)

    return (body(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())),
            body(certificate.public_bytes(serialization.Encoding.PEM)))


PRIVATE_KEY, CERTIFICATE = key_pair()
SECRETS = {"LDAP_BIND_CREDENTIAL": "bind-secret-1", "IMPORTED_PRIVATE_KEY": PRIVATE_KEY}


def loaded(path: Path, realm: str, text: str = REALM_FILE,
           secrets: dict[str, str] = SECRETS) -> LoadedConfig:
    return written(path, text.format(realm=realm, certificate=CERTIFICATE), secrets, realm)


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with realm_from(keycloak_admin, loaded(
            tmp_path_factory.mktemp("components") / "realm.yaml", "t-components")) as name:
        yield name


def test_the_components_are_created(keycloak_admin: KeycloakAdminClient, realm: str,
                                    tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    [ldap] = api.components(type_=LDAP, name="corp-ldap")
    assert ldap["config"]["bindCredential"] == ["**********"]
    mappers = {m["name"]: m for m in api.components(parent=ldap["id"], type_=MAPPER)}
    assert mappers["department"]["config"]["ldap.attribute"] == ["departmentNumber"]
    [imported] = api.components(type_=KEYS, name="mikrocloud-imported")
    assert imported["config"]["certificate"] == [CERTIFICATE]
    keys = api.client.send("GET", f"/admin/realms/{realm}/keys")["keys"]
    assert any(k.get("certificate") == CERTIFICATE for k in keys)  # the imported key works
    assert plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm)).empty


def test_a_one_field_change_is_planned_as_that_field(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    changed = REALM_FILE.replace('priority: ["150"]', 'priority: ["160"]')
    result = plan(keycloak_admin, loaded(tmp_path / "r.yaml", realm, changed))
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("component KeyProvider/mikrocloud-rsa", ["config.priority"])]


def test_drift_and_a_changed_secret(keycloak_admin: KeycloakAdminClient, realm: str,
                                    tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    [ldap] = api.components(type_=LDAP, name="corp-ldap")
    mapper = next(m for m in api.components(parent=ldap["id"], type_=MAPPER)
                  if m["name"] == "department")
    api.update_component(mapper["id"], {**mapper, "config": {
        **mapper["config"], "ldap.attribute": ["ou"]}})
    config = loaded(tmp_path / "r.yaml", realm)
    result = plan(keycloak_admin, config)
    assert [(c.title, [f.path for f in c.fields]) for c in result.changes] == [
        ("component UserStorageProvider/corp-ldap/LDAPStorageMapper/department",
         ["config.ldap.attribute"])]
    apply(keycloak_admin, config)
    assert plan(keycloak_admin, config).empty
    rotated = loaded(tmp_path / "r.yaml", realm, secrets={**SECRETS,
                                                          "LDAP_BIND_CREDENTIAL": "bind-2"})
    result = apply(keycloak_admin, rotated)
    assert [(c.title, [f.describe() for f in c.fields]) for c in result.changes] == [
        ("component UserStorageProvider/corp-ldap",
         ["config.bindCredential: (secret changed)"])]
    assert plan(keycloak_admin, rotated).empty
    # Every fingerprint went into the realm's attributes without dropping the others.
    assert api.get()["attributes"]["mikrocloud.note"] == "kept"


def test_prune_keeps_keycloaks_own_keys_and_undeclared_types(
        keycloak_admin: KeycloakAdminClient, realm: str, tmp_path: Path) -> None:
    api = keycloak_admin.realm(realm)
    realm_id = api.get()["id"]
    api.create_component({"name": "stray-hmac", "providerId": "hmac-generated",
                          "providerType": KEYS, "parentId": realm_id,
                          "config": {"priority": ["10"]}})
    config = loaded(tmp_path / "r.yaml", realm)
    result = apply(keycloak_admin, config, prune_all=True)
    deleted = sorted(c.title for c in result.changes if c.action == "delete")
    # The stray key, and the mappers Keycloak made with the LDAP provider; never the
    # realm's own keys, nor the client registration policies (an undeclared type).
    assert "component KeyProvider/stray-hmac" in deleted
    assert not [t for t in deleted if t.startswith("component KeyProvider/")
                and t != "component KeyProvider/stray-hmac"]
    names = {c["name"] for c in api.components(type_=KEYS)}
    assert {"rsa-generated", "hmac-generated-hs512", "aes-generated"} <= names
    assert api.components(type_="org.keycloak.services.clientregistration.policy."
                                "ClientRegistrationPolicy")
    assert plan(keycloak_admin, config, prune_all=True).empty


def test_the_export_round_trips(keycloak_admin: KeycloakAdminClient, realm: str,
                                tmp_path: Path) -> None:
    exported = export_realm(keycloak_admin.realm(realm))
    ldap = exported["components"][LDAP]["corp-ldap"]
    assert ldap["config"]["bindCredential"] == ["${env:CORP_LDAP_BINDCREDENTIAL}"]
    assert "department" in ldap["subComponents"][MAPPER]
    path = tmp_path / "exported.yaml"
    path.write_text(yaml.safe_dump(exported))
    # The prune test set the bind credential back to the file's.
    env = {"CORP_LDAP_BINDCREDENTIAL": SECRETS["LDAP_BIND_CREDENTIAL"],
           "MIKROCLOUD_IMPORTED_PRIVATEKEY": PRIVATE_KEY}
    assert plan(keycloak_admin, load_config([path], env, realm=realm)).empty
