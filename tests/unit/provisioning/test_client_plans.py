"""The plans of clients and what hangs on them (client scopes, default scopes, protocol
mappers, service-account roles) from a declared file and a hand-built live realm."""

from __future__ import annotations

from typing import Any

from provisioning.kinds.client_protocol_mappers import ClientProtocolMappersKind
from provisioning.kinds.client_scopes import ClientDefaultScopesKind, ClientScopesKind
from provisioning.kinds.clients import SECRET_FINGERPRINT, ClientsKind
from provisioning.kinds.service_accounts import ServiceAccountRolesKind
from provisioning.live import Json, ServiceAccount
from tests.unit.provisioning.realms import (
    REALM,
    SECRETS,
    declared,
    fields,
    fingerprint,
    live_realm,
    plan,
    shown,
    summary,
)

PORTAL = {"publicClient": True, "name": "Portal", "redirectUris": ["https://portal/*"]}
SERVICE = {"serviceAccountsEnabled": True, "secret": "${env:PORTAL_CLIENT_SECRET}"}


def live_client(client_id: str, **fields: Any) -> Json:
    return {"id": f"id-{client_id}", "clientId": client_id, "enabled": True,
            "protocol": "openid-connect", "publicClient": False, "attributes": {}, **fields}


# Clients


def test_a_new_client_gets_idpacks_defaults_and_a_secret_never_shown() -> None:
    [change] = plan(ClientsKind(), declared(clients={"svc": SERVICE}), live_realm())

    assert summary([change]) == [("client", "svc", "create")]
    assert ("standardFlowEnabled", None, True) in fields(change)
    assert ("secret", None, None) in fields(change)
    assert change.payload["secret"] == SECRETS["PORTAL_CLIENT_SECRET"]
    assert change.payload["attributes"][SECRET_FINGERPRINT].startswith("scrypt$")
    assert SECRETS["PORTAL_CLIENT_SECRET"] not in shown([change])


def test_one_changed_client_field_is_planned_and_sent_alone() -> None:
    live = live_realm(clients=[live_client("portal", publicClient=True, name="Portal",
                                           redirectUris=["https://portal/*"],
                                           standardFlowEnabled=True)])
    config = declared(clients={"portal": {**PORTAL, "name": "The portal"}})

    [change] = plan(ClientsKind(), config, live)

    assert fields(change) == [("name", "Portal", "The portal")]
    assert change.payload == {"id": "id-portal", "representation": {
        "clientId": "portal", "name": "The portal"}}


def test_a_rotated_client_secret_shows_only_that_it_changed() -> None:
    live = live_realm(clients=[live_client(
        "svc", serviceAccountsEnabled=True,
        attributes={SECRET_FINGERPRINT: fingerprint("the-old-secret")})])

    [change] = plan(ClientsKind(), declared(clients={"svc": SERVICE}), live)

    assert [(f.path, f.secret) for f in change.fields] == [("secret", True)]
    assert change.payload["representation"]["secret"] == SECRETS["PORTAL_CLIENT_SECRET"]
    assert SECRETS["PORTAL_CLIENT_SECRET"] not in shown([change])


def test_a_built_in_client_is_only_tuned() -> None:
    """A realm this plan creates has Keycloak's clients only once it exists."""
    config = declared(clients={"account-console": {"description": "tuned"}})

    [change] = plan(ClientsKind(), config, live_realm())

    assert summary([change]) == [("client", "account-console", "update")]
    assert change.payload["representation"] == {"clientId": "account-console",
                                                "description": "tuned"}


def test_clients_are_pruned_only_when_asked_and_never_a_built_in_one() -> None:
    live = live_realm(clients=[live_client("portal", **PORTAL), live_client("stray"),
                               live_client("account"), live_client("admin-cli")])
    config = declared(clients={"portal": PORTAL})

    assert plan(ClientsKind(), config, live) == []
    assert summary(plan(ClientsKind(), config, live, prune=("clients",))) == [
        ("client", "stray", "delete")]


# Client scopes

LIVE_SCOPES = [
    {"id": "s1", "name": "profile-details", "protocol": "openid-connect",
     "description": "old", "attributes": {"include.in.token.scope": "false"}},
    {"id": "s2", "name": "stray-scope", "protocol": "openid-connect"},
    {"id": "s3", "name": "email", "protocol": "openid-connect"}]


def test_client_scopes_are_created_and_updated_field_by_field() -> None:
    config = declared(clientScopes={
        "profile-details": {"description": "new", "attributes": {"include.in.token.scope": False}},
        "extra": {"description": "more"}})

    changes = plan(ClientScopesKind(), config, live_realm(clientScopes=LIVE_SCOPES))

    assert summary(changes) == [("client scope", "profile-details", "update"),
                                ("client scope", "extra", "create")]
    assert fields(changes[0]) == [("description", "old", "new")]
    assert changes[1].payload == {"name": "extra", "description": "more",
                                  "protocol": "openid-connect"}


def test_client_scopes_are_pruned_only_when_asked_and_never_a_built_in_one() -> None:
    config = declared(clientScopes={"profile-details": {}})
    live = live_realm(clientScopes=LIVE_SCOPES)

    assert plan(ClientScopesKind(), config, live) == []
    [change] = plan(ClientScopesKind(), config, live, prune=("clientScopes",))
    assert summary([change]) == [("client scope", "stray-scope", "delete")]
    assert change.payload == {"id": "s2"}


# Default and optional client scopes


def test_a_declared_scope_list_is_the_whole_list() -> None:
    live = live_realm(clients=[live_client("account-console",
                                           defaultClientScopes=["profile", "email"],
                                           optionalClientScopes=["phone"])])
    config = declared(clients={"account-console": {
        "defaultClientScopes": ["email", "profile-details"]}})

    [change] = plan(ClientDefaultScopesKind(), config, live)

    assert summary([change]) == [("client scope assignments", "account-console default",
                                  "update")]
    assert fields(change) == [("defaultClientScopes", ["email", "profile"],
                               ["email", "profile-details"])]
    assert change.payload == {"client": "account-console", "which": "default",
                              "wanted": ["email", "profile-details"]}


def test_scope_lists_of_a_new_client_are_made_whole_at_apply() -> None:
    config = declared(clients={"billing": {"optionalClientScopes": []}})

    [change] = plan(ClientDefaultScopesKind(), config, live_realm())

    assert summary([change]) == [("client scope assignments", "billing optional", "create")]
    assert change.payload["wanted"] == []


# Protocol mappers

AUDIENCE = {"type": "oidc-audience-mapper",
            "config": {"included.client.audience": "sidecar", "access.token.claim": True}}


def live_mapper(name: str, **config: str) -> Json:
    return {"id": f"m-{name}", "name": name, "protocol": "openid-connect",
            "protocolMapper": "oidc-audience-mapper", "config": config}


def test_a_mappers_config_is_exact_one_field_a_key() -> None:
    live = live_realm(clients=[live_client("portal", **PORTAL, protocolMappers=[live_mapper(
        "audience", **{"included.client.audience": "old", "access.token.claim": "true",
                       "dropped.from.the.file": "x"})])])
    config = declared(clients={"portal": {**PORTAL, "protocolMappers": {"audience": AUDIENCE}}})

    [change] = plan(ClientProtocolMappersKind(), config, live)

    assert fields(change) == [("config.included.client.audience", "old", "sidecar"),
                              ("config.dropped.from.the.file", "x", None)]
    assert change.payload["representation"]["config"] == {
        "included.client.audience": "sidecar", "access.token.claim": "true"}


def test_a_declared_mapper_map_is_whole_and_prune_takes_the_undeclared_ones() -> None:
    live = live_realm(clients=[
        live_client("portal", protocolMappers=[live_mapper("stray"), live_mapper("audience")]),
        live_client("other", protocolMappers=[live_mapper("kept")]),
        live_client("account-console", protocolMappers=[live_mapper("keycloaks")])])
    config = declared(clients={"portal": {"protocolMappers": {"audience": AUDIENCE}},
                               "other": {}, "account-console": {}})

    kept = plan(ClientProtocolMappersKind(), config, live)
    pruned = plan(ClientProtocolMappersKind(), config, live, prune=("clientProtocolMappers",))

    assert [c for c in summary(kept) if c[2] == "delete"] == [
        ("client protocol mapper", "portal/stray", "delete")]
    assert [c for c in summary(pruned) if c[2] == "delete"] == [
        ("client protocol mapper", "portal/stray", "delete"),
        ("client protocol mapper", "other/kept", "delete")]


# Service-account roles


def test_service_account_roles_are_exact_and_the_default_role_stays() -> None:
    account = ServiceAccount("u1", frozenset({f"default-roles-{REALM}", "SERVICE", "OLD"}),
                             {"realm-management": frozenset({"view-users"})})
    live = live_realm(clients=[live_client("svc", serviceAccountsEnabled=True)],
                      service_accounts={"svc": account})
    config = declared(clients={"svc": {**SERVICE, "serviceAccountRoles": {
        "realm": ["SERVICE"], "clients": {"realm-management": ["view-users", "query-users"]}}}})

    [change] = plan(ServiceAccountRolesKind(), config, live)

    assert fields(change) == [
        ("realm", ["OLD", "SERVICE"], ["SERVICE"]),
        ("clients.realm-management", ["view-users"], ["query-users", "view-users"])]
    assert change.payload == {"realm": ["SERVICE"],
                              "clients": {"realm-management": ["query-users", "view-users"]}}


def test_service_account_roles_not_declared_are_not_managed() -> None:
    account = ServiceAccount("u1", frozenset({"ANYTHING"}), {})
    live = live_realm(clients=[live_client("svc", serviceAccountsEnabled=True)],
                      service_accounts={"svc": account})

    assert plan(ServiceAccountRolesKind(), declared(clients={"svc": SERVICE}), live) == []
