"""Keycloak's own realm JSON as input: a RealmRepresentation, as a realm export writes
it (`kc.sh export`, the admin console's partial export) or other config-as-code tools
keep it, read into idpack's realm file.

It is read the way `idpack realm export` reads a live realm, since a realm export is
what Keycloak's Admin API answers too: the JSON becomes the live-realm snapshot, and
every kind writes its part. Ids are dropped for names. Secrets the JSON holds become
`${env:...}` references (their values come with the conversion, for plan and apply, or
are listed by `convert` to be set); masked ones (`**********`, as exports write them)
are left undeclared, with a warning. What Keycloak knows but idpack does not manage
yet is listed, never an error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioning.export import realm_document, to_yaml
from provisioning.kinds.base import BUILT_IN_CLIENTS, MASKED, secret_variable
from provisioning.kinds.components import MANAGED_COMPONENT_TYPES, SECRET_KEYS
from provisioning.kinds.realm_settings import RealmSettings
from provisioning.kinds.smtp import PASSWORD_REFERENCE
from provisioning.live import Json, LiveRealm, ServiceAccount
from provisioning.source import ConfigError

USER_PROFILE_PROVIDER = "org.keycloak.userprofile.UserProfileProvider"
USER_PROFILE_CONFIG = "kc.user.profile.config"
# The variable export names the SMTP password by (smtp.PASSWORD_REFERENCE).
SMTP_PASSWORD_VARIABLE = PASSWORD_REFERENCE.removeprefix("${env:").removesuffix("}")
# The RealmRepresentation fields the kinds read (beyond RealmSettings' own).
READ_BY_KINDS = frozenset({
    "id", "realm", "attributes", "smtpServer", "eventsEnabled", "eventsExpiration",
    "enabledEventTypes", "eventsListeners", "adminEventsEnabled", "adminEventsDetailsEnabled",
    "requiredActions", "roles", "defaultRole", "clientScopes", "defaultDefaultClientScopes",
    "defaultOptionalClientScopes", "clients", "identityProviders", "identityProviderMappers",
    "authenticationFlows", "authenticatorConfig", "groups", "defaultGroups",
    "localizationTexts", "clientPolicies", "clientProfiles", "users", "components",
    "organizations", "scopeMappings", "clientScopeMappings",
})


@dataclass
class Converted:
    document: Json                       # idpack's realm file
    secrets: dict[str, str] = field(default_factory=dict)  # variable -> value in the JSON
    warnings: list[str] = field(default_factory=list)
    not_managed: list[str] = field(default_factory=list)


def read_realm_json(path: Path) -> Converted:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    except ValueError as exc:
        raise ConfigError([f"{path}: not valid JSON: {exc}"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("realm"), str):
        raise ConfigError([f"{path}:1: not a Keycloak realm (a RealmRepresentation with "
                           "its `realm` name)"])
    return convert(document)


def convert(realm: Json) -> Converted:
    name = realm["realm"]
    live = LiveRealm(name=name, exists=True, export=realm,
                     client_list=list(realm.get("clients") or []),
                     user_profile=_user_profile(realm))
    live.client_roles = dict((realm.get("roles") or {}).get("client") or {})
    live.organizations = {
        org["name"]: {**org, "identityProviders": sorted(
            p["alias"] if isinstance(p, dict) else str(p)
            for p in org.get("identityProviders") or [])}
        for org in realm.get("organizations") or []}
    for user in realm.get("users") or []:
        client_id = user.get("serviceAccountClientId")
        if client_id:
            live.service_accounts[client_id] = ServiceAccount(
                user_id=str(user.get("id") or ""),
                realm_roles=frozenset(user.get("realmRoles") or []),
                client_roles={c: frozenset(r) for c, r in
                              (user.get("clientRoles") or {}).items() if r})
    converted = Converted(document={"realm": name, **realm_document(live)})
    _secrets(realm, converted)
    converted.not_managed = _not_managed(realm)
    return converted


def _user_profile(realm: Json) -> Json | None:
    providers = (realm.get("components") or {}).get(USER_PROFILE_PROVIDER) or []
    for provider in providers:
        raw = (provider.get("config") or {}).get(USER_PROFILE_CONFIG) or []
        if raw:
            profile: Json = json.loads(raw[0])
            return profile
    return None


def _secrets(realm: Json, converted: Converted) -> None:
    """Each secret the JSON holds becomes a reference with its value beside; a masked
    one is left out (Keycloak keeps what it has, or makes one)."""
    document = converted.document

    def take(where: str, value: Any, variable: str) -> str | None:
        if not value:
            return None
        if value == MASKED:
            converted.warnings.append(f"{where}: the secret is masked (**********) in the "
                                      "JSON: not declared; Keycloak keeps or makes its own")
            return None
        converted.secrets[variable] = str(value)
        return f"${{env:{variable}}}"

    for client in realm.get("clients") or []:
        client_id = client.get("clientId")
        if client_id in BUILT_IN_CLIENTS or client.get("publicClient") or client.get(
                "bearerOnly"):
            continue
        reference = take(f"client {client_id}", client.get("secret"),
                         secret_variable(client_id))
        if reference:
            document["clients"][client_id]["secret"] = reference
    for provider in realm.get("identityProviders") or []:
        alias = provider.get("alias")
        reference = take(f"identity provider {alias}",
                         (provider.get("config") or {}).get("clientSecret"),
                         secret_variable(alias))
        if reference:
            document["identityProviders"][alias]["clientSecret"] = reference
    for kind, entries in (document.get("components") or {}).items():
        sources = {c.get("name"): c for c in (realm.get("components") or {}).get(kind) or []}
        for name, entry in entries.items():
            _component_secrets(f"component {name}", sources.get(name) or {}, entry, take)
    password = (realm.get("smtpServer") or {}).get("password")
    reference = take("smtpServer", password, SMTP_PASSWORD_VARIABLE)
    if reference and "smtp" in document:
        document["smtp"]["password"] = reference


def _component_secrets(where: str, source: Json, entry: Json, take: Any) -> None:
    """A component's secret config values (and its sub-components')."""
    for key in SECRET_KEYS & set(entry.get("config") or {}):
        reference = entry["config"][key][0]
        variable = reference.removeprefix("${env:").removesuffix("}")
        value = ((source.get("config") or {}).get(key) or [None])[0]
        if take(f"{where} config.{key}", value, variable) is None:
            del entry["config"][key]
    for kind, subs in (entry.get("subComponents") or {}).items():
        found = {c.get("name"): c for c in (source.get("subComponents") or {}).get(kind) or []}
        for name, sub in subs.items():
            _component_secrets(f"{where}/{name}", found.get(name) or {}, sub, take)


def _not_managed(realm: Json) -> list[str]:
    """What the JSON sets that idpack does not manage (yet), one line each."""
    managed = READ_BY_KINDS | set(RealmSettings.model_fields)
    lines = [key for key, value in sorted(realm.items())
             if key not in managed and value not in (None, [], {}, "")]
    users = [u for u in realm.get("users") or [] if not u.get("serviceAccountClientId")]
    if users:
        lines.append(f"users ({len(users)}: users are data; declare the few a realm needs "
                     "at creation under users:)")
    components = sorted(k for k, v in (realm.get("components") or {}).items()
                        if v and k not in (USER_PROFILE_PROVIDER, *MANAGED_COMPONENT_TYPES))
    lines += [f"components {kind}" for kind in components]
    return lines


def write_yaml(converted: Converted) -> str:
    """The converted realm as a file, with the secrets it now reads named on top."""
    names = "".join(f"#   {name}\n" for name in sorted(converted.secrets))
    header = ("# Converted from Keycloak's realm JSON by `idpack realm convert`.\n"
              + (f"# Set these before `idpack realm plan`:\n{names}" if names else ""))
    return header + to_yaml(converted.document)
