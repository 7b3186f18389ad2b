"""The plans of identity providers and their mappers from a declared file and a
hand-built live realm, without a server."""

from __future__ import annotations

from typing import Any

from provisioning.kinds.identity_providers import (
    SECRET_FINGERPRINT,
    IdentityProviderMappersKind,
    IdentityProvidersKind,
)
from provisioning.live import Json
from tests.unit.provisioning.realms import (
    SECRETS,
    declared,
    fields,
    fingerprint,
    live_realm,
    plan,
    shown,
    summary,
)

GOOGLE: dict[str, Any] = {"providerId": "google", "clientSecret": "${env:GOOGLE_CLIENT_SECRET}",
          "config": {"clientId": "g", "defaultScope": "openid profile email"}}


def live_provider(alias: str, **fields: Any) -> Json:
    """As Keycloak shows a provider made without trustEmail and the like: left out."""
    return {"alias": alias, "providerId": alias, "enabled": True,
            "firstBrokerLoginFlowAlias": "first broker login", **fields}


def live_google(**config: str) -> Json:
    return live_provider("google", config={
        "clientId": "g", "defaultScope": "openid profile email", "clientSecret": "**********",
        SECRET_FINGERPRINT: fingerprint(SECRETS["GOOGLE_CLIENT_SECRET"]), **config})


def test_a_new_provider_is_created_with_its_secret_never_shown() -> None:
    [change] = plan(IdentityProvidersKind(), declared(identityProviders={"google": GOOGLE}),
                    live_realm())

    assert summary([change]) == [("identity provider", "google", "create")]
    assert ("config.clientSecret", None, None) in fields(change)
    assert change.payload["config"]["clientSecret"] == SECRETS["GOOGLE_CLIENT_SECRET"]
    assert SECRETS["GOOGLE_CLIENT_SECRET"] not in shown([change])


def test_one_config_key_is_one_field_and_keys_set_by_others_stay() -> None:
    live = live_realm(identityProviders=[live_google(syncMode="IMPORT")])
    config = declared(identityProviders={"google": {
        **GOOGLE, "config": {**GOOGLE["config"], "defaultScope": "openid email"}}})

    [change] = plan(IdentityProvidersKind(), config, live)

    assert fields(change) == [("config.defaultScope", "openid profile email", "openid email")]
    assert change.payload["config"]["syncMode"] == "IMPORT"
    assert change.payload["config"]["clientSecret"] == "**********"  # Keycloak keeps its own


def test_fields_keycloak_leaves_out_read_as_false() -> None:
    live = live_realm(identityProviders=[live_google()])

    assert plan(IdentityProvidersKind(), declared(identityProviders={
        "google": {**GOOGLE, "trustEmail": False}}), live) == []


def test_declared_config_wins_over_the_saml_metadata() -> None:
    config = declared(identityProviders={"wayf": {
        "providerId": "saml", "enabled": False, "config": {"nameIDPolicyFormat": "mine"}}})
    metadata = {"wayf": {"singleSignOnServiceUrl": "https://wayf/sso",
                         "nameIDPolicyFormat": "from metadata"}}

    [change] = plan(IdentityProvidersKind(), config, live_realm(), metadata=metadata)

    assert change.payload["config"] == {"singleSignOnServiceUrl": "https://wayf/sso",
                                        "nameIDPolicyFormat": "mine"}


def test_providers_are_pruned_only_when_asked() -> None:
    live = live_realm(identityProviders=[live_google(), live_provider("stray")])
    config = declared(identityProviders={"google": GOOGLE})

    assert plan(IdentityProvidersKind(), config, live) == []
    assert summary(plan(IdentityProvidersKind(), config, live,
                        prune=("identityProviders",))) == [
        ("identity provider", "stray", "delete")]


# Mappers

PICTURE: dict[str, Any] = {"type": "oidc-user-attribute-idp-mapper",
           "config": {"claim": "picture", "user.attribute": "picture", "syncMode": "INHERIT"}}


def live_mapper(alias: str, name: str, **config: str) -> Json:
    return {"id": f"{alias}-{name}", "name": name, "identityProviderAlias": alias,
            "identityProviderMapper": "oidc-user-attribute-idp-mapper", "config": config}


def test_mappers_are_created_and_updated_one_field_a_key() -> None:
    live = live_realm(identityProviders=[live_google()], identityProviderMappers=[
        live_mapper("google", "picture", claim="avatar", **{"user.attribute": "picture",
                                                            "syncMode": "INHERIT"})])
    config = declared(identityProviders={"google": {**GOOGLE, "mappers": {
        "picture": PICTURE, "locale": {**PICTURE, "config": {"claim": "locale"}}}}})

    changes = plan(IdentityProviderMappersKind(), config, live)

    assert summary(changes) == [("identity provider mapper", "google/picture", "update"),
                                ("identity provider mapper", "google/locale", "create")]
    assert fields(changes[0]) == [("config.claim", "avatar", "picture")]


def test_a_declared_mapper_map_is_whole_and_prune_takes_the_undeclared_ones() -> None:
    live = live_realm(identityProviders=[live_google(), live_provider("other"),
                                         live_provider("elsewhere")],
                      identityProviderMappers=[
                          live_mapper("google", "picture", **PICTURE["config"]),
                          live_mapper("google", "stray"), live_mapper("other", "kept"),
                          live_mapper("elsewhere", "untouched")])
    config = declared(identityProviders={
        "google": {**GOOGLE, "mappers": {"picture": PICTURE}},
        "other": {"providerId": "oidc", "enabled": False}})

    [change] = plan(IdentityProviderMappersKind(), config, live)
    pruned = plan(IdentityProviderMappersKind(), config, live,
                  prune=("identityProviderMappers",))

    assert summary([change]) == [("identity provider mapper", "google/stray", "delete")]
    assert change.payload == {"alias": "google", "id": "google-stray"}
    assert summary(pruned) == [("identity provider mapper", "google/stray", "delete"),
                               ("identity provider mapper", "other/kept", "delete")]
