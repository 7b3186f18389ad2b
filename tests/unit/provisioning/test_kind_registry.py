"""The ordered registry is the one list of kinds: what `prune:` accepts, what `--prune`
turns on and what export writes all follow from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning import engine
from provisioning.config import load_config
from provisioning.export import realm_document
from provisioning.kinds.base import PlanContext
from provisioning.kinds.clients import SECRET_FINGERPRINT as CLIENT_FINGERPRINT
from provisioning.kinds.identity_providers import SECRET_FINGERPRINT as IDP_FINGERPRINT
from provisioning.kinds.smtp import PASSWORD_FINGERPRINT
from provisioning.live import LiveRealm, ServiceAccount
from provisioning.registry import BY_NAME, KINDS, PRUNABLE, prunable_text
from provisioning.schema import REALM_FILE, parse_realm_file
from provisioning.source import ConfigError
from tests.unit.provisioning.realms import REALM, SECRETS, declared, fingerprint, live_realm


def test_prunable_kinds_are_the_registrys_prune_keys_in_its_order() -> None:
    assert [k.prune_key for k in KINDS if k.prune_key is not None] == list(PRUNABLE)
    assert len(set(PRUNABLE)) == len(PRUNABLE)
    assert engine.PRUNABLE == PRUNABLE
    assert "clientScopes" in PRUNABLE  # --prune once left client scopes out
    assert prunable_text() == ", ".join(PRUNABLE)


def test_the_file_accepts_exactly_the_prunable_kinds(tmp_path: Path) -> None:
    assert declared(prune=list(PRUNABLE)).prune == list(PRUNABLE)
    path = tmp_path / "realm.yaml"
    path.write_text("realm: r\nprune:\n  - roles\n  - clientScope\n")

    with pytest.raises(ConfigError) as caught:
        load_config([path], {})

    assert caught.value.problems == [
        f"{path}:4: prune[1]: 'clientScope' is not a prunable kind (did you mean "
        f"'clientScopes'?); the prunable kinds are {prunable_text()}"]


def test_every_kind_has_a_name_of_its_own_that_apply_finds() -> None:
    assert len({k.name for k in KINDS}) == len(KINDS)
    assert all(BY_NAME[k.name] is k for k in KINDS)


def a_live_realm() -> LiveRealm:
    """One of everything idpack manages, as Keycloak shows it, secrets set by idpack."""
    flow_step = {"authenticator": "auth-cookie", "authenticatorFlow": False,
                 "requirement": "ALTERNATIVE", "priority": 10}
    sub_flow = {"authenticatorFlow": True, "flowAlias": "web forms",
                "requirement": "ALTERNATIVE", "priority": 20}
    otp = {"authenticator": "auth-otp-form", "authenticatorFlow": False,
           "requirement": "REQUIRED", "priority": 10, "authenticatorConfig": "otp config"}
    return live_realm(
        displayName="R", verifyEmail=True, browserFlow="web",
        attributes={"frontendUrl": "https://r", PASSWORD_FINGERPRINT: fingerprint(
            SECRETS["SMTP_PASSWORD"])},
        smtpServer={"host": "relay", "port": "2525", "from": "a@r", "auth": "true",
                    "user": "kc", "ssl": "false", "starttls": "true", "password": "**********"},
        eventsEnabled=True, enabledEventTypes=["LOGIN"], eventsListeners=["jboss-logging"],
        adminEventsEnabled=False, adminEventsDetailsEnabled=False,
        requiredActions=[{"alias": "VERIFY_EMAIL", "enabled": True, "defaultAction": False,
                          "priority": 50, "config": {"cooldown": "1"}}],
        roles={"realm": [{"name": "USER", "description": "a user"}, {"name": "offline_access"},
                         {"name": f"default-roles-{REALM}",
                          "composites": {"realm": ["USER", "offline_access"]}}]},
        clientScopes=[{"id": "s1", "name": "details", "protocol": "openid-connect",
                       "attributes": {"include.in.token.scope": "false"}},
                      {"id": "s2", "name": "email", "protocol": "openid-connect"}],
        authenticationFlows=[
            {"id": "f1", "alias": "web", "topLevel": True, "builtIn": False,
             "providerId": "basic-flow", "authenticationExecutions": [flow_step, sub_flow]},
            {"id": "f2", "alias": "web forms", "topLevel": False, "builtIn": False,
             "description": "forms", "authenticationExecutions": [otp]},
            {"id": "f3", "alias": "browser", "topLevel": True, "builtIn": True,
             "authenticationExecutions": [flow_step]}],
        authenticatorConfig=[{"alias": "otp config", "config": {"a": "1"}}],
        identityProviders=[{"alias": "google", "providerId": "google", "enabled": True,
                            "trustEmail": False, "firstBrokerLoginFlowAlias": "first broker login",
                            "config": {"clientId": "g", "clientSecret": "**********",
                                       IDP_FINGERPRINT: fingerprint(
                                           SECRETS["GOOGLE_CLIENT_SECRET"])}}],
        identityProviderMappers=[{"id": "m1", "name": "picture", "identityProviderAlias": "google",
                                  "identityProviderMapper": "oidc-user-attribute-idp-mapper",
                                  "config": {"claim": "picture"}}],
        clients=[
            {"id": "c1", "clientId": "portal", "enabled": True, "publicClient": False,
             "protocol": "openid-connect", "serviceAccountsEnabled": True,
             "redirectUris": ["https://r/*"], "defaultClientScopes": ["email", "details"],
             "authenticationFlowBindingOverrides": {"browser": "f1"},
             "attributes": {"pkce": "S256", CLIENT_FINGERPRINT: fingerprint(
                 SECRETS["PORTAL_CLIENT_SECRET"])},
             "protocolMappers": [{"id": "p1", "name": "audience", "protocol": "openid-connect",
                                  "protocolMapper": "oidc-audience-mapper",
                                  "config": {"included.client.audience": "x"}}]},
            {"id": "c2", "clientId": "account", "enabled": True, "publicClient": True,
             "protocolMappers": [{"id": "p2", "name": "locale", "protocol": "openid-connect",
                                  "protocolMapper": "oidc-usermodel-attribute-mapper"}]}],
        service_accounts={"portal": ServiceAccount(
            "u1", frozenset({"USER", f"default-roles-{REALM}"}),
            {"realm-management": frozenset({"view-users"})})},
        profile={"unmanagedAttributePolicy": "ADMIN_VIEW", "attributes": [
            {"name": "username", "permissions": {"view": ["admin"], "edit": ["admin"]}},
            {"name": "country", "displayName": "Country", "multivalued": False,
             "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
             "selector": {"scopes": ["details"]}, "annotations": {}, "validations": {}}]})


def test_every_kinds_export_is_a_section_of_the_realm_file() -> None:
    for kind in KINDS:
        part = kind.export(a_live_realm()) or {}
        assert set(part) <= set(REALM_FILE.model_fields), kind.name


def test_an_exported_realm_plans_no_changes_even_with_every_kind_pruned() -> None:
    live = a_live_realm()
    document = realm_document(live)
    env = {"PORTAL_CLIENT_SECRET": SECRETS["PORTAL_CLIENT_SECRET"],
           "GOOGLE_CLIENT_SECRET": SECRETS["GOOGLE_CLIENT_SECRET"],
           "SMTP_PASSWORD": SECRETS["SMTP_PASSWORD"]}
    config = parse_realm_file(document, env)

    context = PlanContext(config=config, live=live, prune=frozenset(PRUNABLE))
    changes = [change for kind in KINDS for change in kind.plan(context)]

    assert changes == []
    assert "account" not in document["clients"]  # built-in: neither it nor its mappers
    assert document["clientScopes"] == {"details": {
        "protocol": "openid-connect", "attributes": {"include.in.token.scope": "false"}}}
    assert document["clients"]["portal"]["secret"] == "${env:PORTAL_CLIENT_SECRET}"
    assert document["settings"]["browserFlow"] == "web"
    assert document["clients"]["portal"]["authenticationFlowBindingOverrides"] == {
        "browser": "web"}


def test_the_realm_files_sections_are_the_kinds_own() -> None:
    sections = [s.name for kind in KINDS for s in kind.sections]
    assert len(set(sections)) == len(sections)  # each section declared by one kind
    assert set(REALM_FILE.model_fields) == {"realm", "prune", *sections}


def test_the_readme_table_states_the_rule_and_the_prune_entry_of_every_kind() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| Keycloak object | declared fields | prune | export |", 1)[1]
    rows = [line for line in table.split("\n\n", 1)[0].splitlines()[2:] if line.startswith("|")]
    assert len(rows) >= 25
    for key in PRUNABLE:
        assert any(f"`{key}`" in row.split("|")[3] for row in rows), key
    assert all(row.split("|")[2].strip() for row in rows[:-1])  # each says its rule
