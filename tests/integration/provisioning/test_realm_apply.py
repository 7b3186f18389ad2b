"""Realm as code against the real Keycloak: apply, drift, prune, the MikroCloud checklist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import client_credentials_token, unverified_claims
from idpack.keycloak.target import KeycloakTarget
from tests.support.realm import SECRETS, applied, apply, load, plan


@pytest.fixture(scope="module")
def mikrocloud(keycloak_admin: KeycloakAdminClient) -> Iterator[str]:
    """The MikroCloud file applied to a realm of this module's own. Each test leaves it
    matching the file again."""
    with applied(keycloak_admin, "t-mikrocloud-apply") as name:
        yield name


def test_apply_then_plan_is_empty(keycloak_admin: KeycloakAdminClient, mikrocloud: str) -> None:
    assert plan(keycloak_admin, load(mikrocloud)).empty


def test_the_realm_has_every_setting_of_the_checklist(keycloak_admin: KeycloakAdminClient,
                                                      mikrocloud: str) -> None:
    api = keycloak_admin.realm(mikrocloud)
    export = api.export()
    assert export["registrationAllowed"]
    assert export["loginWithEmailAllowed"]
    assert export["verifyEmail"]
    assert not export["duplicateEmailsAllowed"]
    assert export["bruteForceProtected"]
    assert export["passwordPolicy"] == (
        "length(8) and upperCase(1) and lowerCase(1) and digits(1) and specialChars(1) "
        "and passwordHistory(3) and notUsername and notEmail")
    assert export["attributes"]["actionTokenGeneratedByUserLifespan.verify-email"] == "86400"
    assert (export["loginTheme"], export["emailTheme"]) == ("mikrocloud", "mikrocloud")
    assert export["eventsEnabled"]
    assert export["eventsExpiration"] > 0
    assert {"REGISTER", "LOGIN", "LOGIN_ERROR", "VERIFY_EMAIL", "SEND_VERIFY_EMAIL",
            "UPDATE_EMAIL", "UPDATE_PROFILE"} <= set(export["enabledEventTypes"])
    smtp = export["smtpServer"]
    assert (smtp["host"], smtp["port"], smtp["from"]) == (
        "127.0.0.1", "2525", "no-reply@mikrocloud.com")
    assert smtp["fromDisplayName"] == "MikroCloud"

    actions = {a["alias"]: a for a in export["requiredActions"]}
    assert all(actions[a]["enabled"] for a in ("VERIFY_EMAIL", "CONFIGURE_TOTP", "UPDATE_PASSWORD"))
    assert actions["VERIFY_EMAIL"]["config"]["emailResendCooldownSeconds"] == "1"

    roles = {r["name"]: r for r in export["roles"]["realm"]}
    assert {"USER", "ADMIN", "SERVICE", "PROVIDER", "THIRD_PARTY_APP"} <= set(roles)
    assert "USER" in roles[f"default-roles-{mikrocloud}"]["composites"]["realm"]

    providers = {p["alias"]: p for p in export["identityProviders"]}
    scopes = {a: providers[a]["config"]["defaultScope"] for a in ("google", "github", "microsoft")}
    assert scopes == {"google": "openid profile email", "github": "openid user email",
                      "microsoft": "openid profile email"}
    for provider in providers.values():
        # The address is trusted once its owner followed the mailed link: the first
        # login flow links nothing before that (tests/security/test_provider_links.py).
        assert provider["trustEmail"] is True
        assert provider["firstBrokerLoginFlowAlias"] == "mikrocloud first broker login"
    assert providers["wayf"]["enabled"] is False
    assert providers["wayf"]["config"]["singleSignOnServiceUrl"] == (
        "http://127.0.0.1:8089/wayf-test/sso")  # read from the metadata file
    mappers = {(m["identityProviderAlias"], m["name"]): m
               for m in export["identityProviderMappers"]}
    assert mappers[("github", "picture")]["config"]["jsonField"] == "avatar_url"
    assert {name for alias, name in mappers if alias == "wayf"} == {
        "eduPersonTargetedID", "mail", "gn", "sn", "schacHomeOrganization"}

    profile = {a["name"]: a for a in api.user_profile()["attributes"]}
    for name in ("country", "timezone", "organizationFullName", "department", "researchField",
                 "position", "picture"):
        assert name in profile
    assert profile["country"]["permissions"]["edit"] == ["admin", "user"]
    assert profile["timezone"]["permissions"]["edit"] == ["admin", "user"]
    assert {"username", "email"} <= set(profile)

    clients = {c["clientId"]: c for c in export["clients"]}
    portal = clients["portal"]
    assert portal["publicClient"]
    assert portal["attributes"]["pkce.code.challenge.method"] == "S256"
    check = clients["idpack-password-check"]
    assert check["directAccessGrantsEnabled"]
    assert not check["standardFlowEnabled"]
    sidecar_account = api.service_account_user(clients["idpack-sidecar"]["id"])
    granted = api.role_mappings(sidecar_account["id"])["clientMappings"]["realm-management"]
    assert {r["name"] for r in granted["mappings"]} == {
        "view-users", "manage-users", "query-users", "view-events", "view-realm"}


def test_a_service_client_gets_its_secret_and_the_service_role(keycloak: KeycloakTarget,
                                                               mikrocloud: str) -> None:
    response = client_credentials_token(keycloak.url, mikrocloud, "example-service",
                                        SECRETS["EXAMPLE_SERVICE_CLIENT_SECRET"])

    assert response.status_code == 200, response.text
    roles = unverified_claims(response.json()["access_token"])["realm_access"]["roles"]
    assert "SERVICE" in roles


def test_one_changed_field_gives_a_plan_with_exactly_that_field(
        keycloak_admin: KeycloakAdminClient, mikrocloud: str, tmp_path: Path) -> None:
    overlay = tmp_path / "changed.yaml"
    overlay.write_text("clients:\n  portal:\n    name: The MikroCloud portal\n")

    result = plan(keycloak_admin, load(mikrocloud, overlay))

    assert [(c.kind, c.name, c.action) for c in result.changes] == [
        ("client", "portal", "update")]
    [field] = result.changes[0].fields
    assert (field.path, field.before, field.after) == (
        "name", "MikroCloud portal", "The MikroCloud portal")


def test_drift_made_in_keycloak_shows_in_the_plan_and_apply_restores_it(
        keycloak_admin: KeycloakAdminClient, mikrocloud: str) -> None:
    api = keycloak_admin.realm(mikrocloud)
    api.update({"passwordPolicy": "length(4)"})
    mapper = next(m for m in api.export()["identityProviderMappers"]
                  if (m["identityProviderAlias"], m["name"]) == ("github", "picture"))
    api.delete_identity_provider_mapper("github", mapper["id"])
    profile = api.user_profile()
    profile["attributes"] = [a for a in profile["attributes"] if a["name"] != "department"]
    api.put_user_profile(profile)

    drift = plan(keycloak_admin, load(mikrocloud))

    assert {(c.kind, c.name, c.action) for c in drift.changes} == {
        ("realm", mikrocloud, "update"),
        ("identity provider mapper", "github/picture", "create"),
        ("user profile attribute", "department", "create"),
    }
    realm_change = next(c for c in drift.changes if c.kind == "realm")
    assert [(f.path, f.before) for f in realm_change.fields] == [("passwordPolicy", "length(4)")]

    apply(keycloak_admin, load(mikrocloud))

    assert plan(keycloak_admin, load(mikrocloud)).empty
    assert api.export()["passwordPolicy"].startswith("length(8)")


def test_prune_removes_only_the_listed_kinds_and_never_a_built_in(
        keycloak_admin: KeycloakAdminClient, mikrocloud: str) -> None:
    api = keycloak_admin.realm(mikrocloud)
    api.create_role({"name": "STRAY"})
    api.create_client({"clientId": "stray-client"})
    api.create_identity_provider_mapper("google", {
        "name": "stray-mapper", "identityProviderAlias": "google",
        "identityProviderMapper": "hardcoded-attribute-idp-mapper",
        "config": {"attribute": "x", "attribute.value": "y", "syncMode": "INHERIT"}})
    profile = api.user_profile()
    profile["attributes"].append({"name": "stray", "displayName": "Stray",
                                  "permissions": {"view": ["admin"], "edit": ["admin"]}})
    api.put_user_profile(profile)

    listed = plan(keycloak_admin, load(mikrocloud))

    # The file prunes roles, identityProviderMappers and userProfileAttributes only.
    assert {(c.kind, c.name) for c in listed.changes if c.action == "delete"} == {
        ("role", "STRAY"), ("identity provider mapper", "google/stray-mapper"),
        ("user profile attribute", "stray")}
    apply(keycloak_admin, load(mikrocloud))
    assert api.client_by_client_id("stray-client") is not None

    everything = plan(keycloak_admin, load(mikrocloud), prune_all=True)

    assert [(c.kind, c.name, c.action) for c in everything.changes] == [
        ("client", "stray-client", "delete")]
    apply(keycloak_admin, load(mikrocloud), prune_all=True)
    export = api.export()
    assert {"account", "account-console", "admin-cli", "broker", "realm-management",
            "security-admin-console"} <= {c["clientId"] for c in export["clients"]}
    assert {"offline_access", "uma_authorization", f"default-roles-{mikrocloud}"} <= {
        r["name"] for r in export["roles"]["realm"]}
    assert {"username", "email", "firstName", "lastName"} <= {
        a["name"] for a in api.user_profile()["attributes"]}
    assert plan(keycloak_admin, load(mikrocloud), prune_all=True).empty


def test_profile_details_sit_behind_a_client_scope_the_account_console_has(
        keycloak_admin: KeycloakAdminClient, mikrocloud: str) -> None:
    api = keycloak_admin.realm(mikrocloud)
    scope = api.client_scope_by_name("mikrocloud-profile")
    assert scope is not None
    assert scope["attributes"]["include.in.token.scope"] == "false"
    console = api.client_by_client_id("account-console")
    assert console is not None
    assert "mikrocloud-profile" in console["defaultClientScopes"]
    assert {"profile", "email"} <= set(console["defaultClientScopes"])  # declared too
    selectors = {a["name"]: a.get("selector") for a in api.user_profile()["attributes"]}
    for name in ("country", "timezone", "organizationFullName", "department",
                 "researchField", "position"):
        assert selectors[name] == {"scopes": ["mikrocloud-profile"]}
    assert selectors["email"] is None

    api.update_client_scope(scope["id"], {**scope, "description": "changed by hand"})
    drift = plan(keycloak_admin, load(mikrocloud))
    assert [(c.kind, c.name) for c in drift.changes] == [("client scope", "mikrocloud-profile")]
    apply(keycloak_admin, load(mikrocloud))
    assert plan(keycloak_admin, load(mikrocloud)).empty
