"""The plans of identity providers and their mappers from a declared file and a
hand-built live realm, without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from provisioning.kinds.identity_providers import (
    IDENTITY_PROVIDERS,
    SECRET_FINGERPRINT,
    IdentityProviderMappersKind,
    IdentityProvidersKind,
)
from provisioning.live import Json
from provisioning.schema import parse_realm_file
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


def if_configured(**env: str) -> Any:
    """GitHub declared `enabled: if-configured`, read with `env` as the environment."""
    document = {"realm": "r", "identityProviders": {"github": {
        "providerId": "github", "enabled": "if-configured",
        "clientSecret": "${env:GITHUB_CLIENT_SECRET}",
        "config": {"clientId": "${env:GITHUB_CLIENT_ID}", "defaultScope": "openid user email",
                   "baseUrl": "${env:GITHUB_BASE_URL:-https://github.com}"}}}}
    return parse_realm_file(document, env, Path())


def test_if_configured_is_on_when_both_credentials_are_set() -> None:
    idp = if_configured(GITHUB_CLIENT_ID="Iv1.abc", GITHUB_CLIENT_SECRET="s3cret") \
        .identityProviders["github"]

    assert idp.enabled is True
    assert idp.config["clientId"] == "Iv1.abc"
    assert idp.switch_note("github") == "identity provider github: on (its credentials are set)"


def test_if_configured_without_a_secret_is_declared_but_off_and_says_which() -> None:
    idp = if_configured(GITHUB_CLIENT_ID="Iv1.abc").identityProviders["github"]

    assert idp.enabled is False
    assert idp.clientSecret is not None
    assert idp.clientSecret.value is None
    assert idp.config["clientId"] == "Iv1.abc"          # what is set is still managed
    assert idp.switch_note("github") == ("identity provider github: declared but off, its "
                                         "credentials are not set (GITHUB_CLIENT_SECRET)")


def test_if_configured_with_nothing_set_leaves_unset_keys_unmanaged() -> None:
    idp = if_configured().identityProviders["github"]

    assert idp.enabled is False
    assert "clientId" not in idp.config                 # Keycloak keeps what it has
    assert idp.config["baseUrl"] == "https://github.com"  # a default is a value
    assert "GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET" in (idp.switch_note("github") or "")


def test_a_provider_switched_off_by_hand_may_name_credentials_nobody_set() -> None:
    config = parse_realm_file({"realm": "r", "identityProviders": {"google": {
            "providerId": "google", "enabled": False,
            "clientSecret": "${env:GOOGLE_CLIENT_SECRET}",
            "config": {"clientId": "${env:GOOGLE_CLIENT_ID}"}}}}, {}, Path())

    google = IDENTITY_PROVIDERS.of(config)["google"]
    assert google.enabled is False
    assert "clientId" not in google.config
    assert google.switch_note("google") is None


def test_an_enabled_provider_with_an_unset_client_id_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError, match="GOOGLE_CLIENT_ID is not set"):
        parse_realm_file({"realm": "r", "identityProviders": {"google": {
                "providerId": "google", "enabled": True,
                "config": {"clientId": "${env:GOOGLE_CLIENT_ID}"}}}}, {}, Path())


def test_the_switch_is_planned_as_enabled_false_over_a_live_enabled_provider() -> None:
    live = live_realm(identityProviders=[live_provider(
        "github", providerId="github", config={"clientId": "Iv1.old"})])

    [change] = plan(IdentityProvidersKind(), if_configured(), live)

    assert ("enabled", True, False) in fields(change)
    assert change.payload["config"]["clientId"] == "Iv1.old"


def test_a_provider_waiting_for_its_credentials_is_not_created_nor_its_mappers() -> None:
    config = parse_realm_file({"realm": "r", "identityProviders": {"github": {
            "providerId": "github", "enabled": "if-configured",
            "clientSecret": "${env:GITHUB_CLIENT_SECRET}",
            "config": {"clientId": "${env:GITHUB_CLIENT_ID}"},
            "mappers": {"picture": {"type": "github-user-attribute-mapper",
                                    "config": {"jsonField": "avatar_url"}}}}}}, {}, Path())

    assert plan(IdentityProvidersKind(), config, live_realm()) == []
    assert plan(IdentityProviderMappersKind(), config, live_realm()) == []
