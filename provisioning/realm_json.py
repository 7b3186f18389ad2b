"""Keycloak's own realm JSON as input: a RealmRepresentation, as a realm export writes
it (`kc.sh export`, the admin console's partial export) or other config-as-code tools
keep it, written by hand, read into idpack's realm file.

First the JSON is checked against the shapes the kinds declare for the fields they read
(`ResourceKind.representation`): a wrong one is an error naming its place in the JSON
(`realm.json: groups[2].subGroups[0].attributes: ...`), never a traceback. Then it is
read the way `idpack realm export` reads a live realm, since a realm export is what
Keycloak's Admin API answers too: the JSON becomes the live-realm snapshot, and every
kind writes its part; what the JSON leaves out is left out (not managed), and an empty
list or map it gives is declared empty. Ids are dropped for names, and hand-written JSON
needs none: a group's path follows from the tree, a flow is top-level unless another
flow uses it as a sub-flow.

Secrets the JSON holds become `${env:...}` references (their values come with the
conversion, for plan and apply, or are listed by `convert` to be set); masked ones
(`**********`, as exports write them) are left undeclared, with a warning. What Keycloak
knows but idpack does not manage yet is listed, never an error."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError, create_model

from provisioning.export import realm_document, to_yaml
from provisioning.kinds.base import BUILT_IN_CLIENTS, MASKED, secret_variable
from provisioning.kinds.components import MANAGED_COMPONENT_TYPES, SECRET_KEYS
from provisioning.kinds.realm_settings import RealmSettings
from provisioning.kinds.smtp import PASSWORD_REFERENCE
from provisioning.kinds.user_profile import ProfileDocumentJson
from provisioning.live import Json, LiveRealm, ServiceAccount
from provisioning.realm_json_paths import json_locations
from provisioning.registry import REPRESENTATION
from provisioning.source import ConfigError, FieldPath, Location, dotted

USER_PROFILE_PROVIDER = "org.keycloak.userprofile.UserProfileProvider"
USER_PROFILE_CONFIG = "kc.user.profile.config"
# The variable export names the SMTP password by (smtp.PASSWORD_REFERENCE).
SMTP_PASSWORD_VARIABLE = PASSWORD_REFERENCE.removeprefix("${env:").removesuffix("}")
# The RealmRepresentation fields idpack reads: the kinds', and the realm's settings.
READ_BY_KINDS = frozenset({"id", "realm", *REPRESENTATION, *RealmSettings.model_fields})
# Declared users cost three reads each at every plan: many are data, not configuration.
MANY_USERS = 50

_FIELDS: dict[str, Any] = {"realm": (str, ...),
                           **{name: (shape, None) for name, shape in REPRESENTATION.items()}}
_REPRESENTATION = create_model("RealmRepresentation", __config__=ConfigDict(extra="allow"),
                               **_FIELDS)
_PROFILE = TypeAdapter(ProfileDocumentJson)


@dataclass
class Converted:
    document: Json                       # idpack's realm file
    secrets: dict[str, str] = field(default_factory=dict)  # variable -> value in the JSON
    warnings: list[str] = field(default_factory=list)
    not_managed: list[str] = field(default_factory=list)
    # Where each object of the document sits in the JSON, for errors.
    locations: dict[FieldPath, Location] = field(default_factory=dict)


def read_realm_json(path: Path) -> Converted:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{path}:{exc.lineno}: not valid JSON: {exc.msg} "
                           f"(column {exc.colno})"]) from None
    except ValueError as exc:
        raise ConfigError([f"{path}: not valid JSON: {exc}"]) from None
    return convert(document, path)


def convert(realm: Any, path: Path | None = None) -> Converted:
    """The realm file a RealmRepresentation declares; ConfigError lists what is wrong."""
    name = Path("realm JSON") if path is None else path
    if not isinstance(realm, dict) or not isinstance(realm.get("realm"), str):
        raise ConfigError([f"{name}: not a Keycloak realm (a RealmRepresentation with "
                           "its `realm` name)"])
    checked = _checked(realm, name)
    live = _live_realm(checked, name)
    try:
        document = {"realm": checked["realm"], **realm_document(live)}
    except ValueError as exc:
        raise ConfigError([f"{name}: {exc}"]) from None
    converted = Converted(document=document, locations=json_locations(checked, name))
    _secrets(checked, converted)
    _users(checked, converted)
    converted.not_managed = _not_managed(checked)
    return converted


def _checked(realm: Json, name: Path) -> Json:
    """The JSON with the fields the kinds read checked and typed (as Keycloak reads
    them: "true" is true, "30" is 30); null ones are left out."""
    try:
        valid = _REPRESENTATION.model_validate(realm)
    except ValidationError as exc:
        raise ConfigError([_problem(name, (), error) for error in exc.errors()]) from None
    dumped: Json = valid.model_dump(exclude_unset=True)
    return {k: v for k, v in dumped.items() if v is not None}


def _problem(name: Path, prefix: FieldPath, error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    return f"{name}: {dotted((*prefix, *error['loc']))}: {message}"


def _live_realm(realm: Json, name: Path) -> LiveRealm:
    """The JSON as the snapshot export reads; empty lists and maps are declarations."""
    live = LiveRealm(name=realm["realm"], exists=True, keep_empty=True,
                     export={**realm, "authenticationFlows": _flows(realm)},
                     client_list=list(realm.get("clients") or []),
                     user_profile=_user_profile(realm, name))
    live.client_roles = dict((realm.get("roles") or {}).get("client") or {})
    live.organizations = {org["name"]: org for org in realm.get("organizations") or []}
    for user in realm.get("users") or []:
        client_id = user.get("serviceAccountClientId")
        if client_id:
            live.service_accounts[client_id] = ServiceAccount(
                user_id=str(user.get("id") or ""),
                realm_roles=frozenset(user.get("realmRoles") or []),
                client_roles={c: frozenset(r) for c, r in
                              (user.get("clientRoles") or {}).items() if r})
        else:
            live.users[user["username"]] = user
    return live


def _flows(realm: Json) -> list[Json]:
    """The flows, each marked top-level or not: hand-written JSON may leave `topLevel`
    out, and then a flow is a sub-flow when another flow's step names it."""
    flows = realm.get("authenticationFlows") or []
    used = {e.get("flowAlias") for f in flows for e in f.get("authenticationExecutions") or []
            if e.get("authenticatorFlow") or e.get("flowAlias")}
    return [flow if flow.get("topLevel") is not None
            else {**flow, "topLevel": flow["alias"] not in used} for flow in flows]


def _user_profile(realm: Json, name: Path) -> Json | None:
    providers = (realm.get("components") or {}).get(USER_PROFILE_PROVIDER) or []
    for index, provider in enumerate(providers):
        raw = (provider.get("config") or {}).get(USER_PROFILE_CONFIG) or []
        if not raw:
            continue
        where: FieldPath = ("components", USER_PROFILE_PROVIDER, index, "config",
                            USER_PROFILE_CONFIG, 0)
        try:
            profile: Json = dict(_PROFILE.validate_json(str(raw[0])))
        except ValidationError as exc:
            raise ConfigError([_problem(name, where, error) for error in exc.errors()]) from None
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
        client_id = client["clientId"]
        if client_id in BUILT_IN_CLIENTS or client.get("publicClient") or client.get(
                "bearerOnly"):
            continue
        reference = take(f"client {client_id}", client.get("secret"),
                         secret_variable(client_id))
        if reference:
            document["clients"][client_id]["secret"] = reference
    for provider in realm.get("identityProviders") or []:
        alias = provider["alias"]
        reference = take(f"identity provider {alias}",
                         (provider.get("config") or {}).get("clientSecret"),
                         secret_variable(alias))
        if reference:
            document["identityProviders"][alias]["clientSecret"] = reference
    for kind, entries in (document.get("components") or {}).items():
        sources = {c.get("name"): c for c in (realm.get("components") or {}).get(kind) or []}
        for component, entry in entries.items():
            _component_secrets(f"component {component}", sources.get(component) or {},
                               entry, take)
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


def _users(realm: Json, converted: Converted) -> None:
    """A user's password in the JSON becomes a reference with its value beside, set
    when idpack creates the user; a hashed one cannot be set through the Admin API."""
    users = [u for u in realm.get("users") or [] if not u.get("serviceAccountClientId")]
    if len(users) > MANY_USERS:
        converted.warnings.append(
            f"{len(users)} users are declared, and plan reads each on its own (three "
            "requests a user): users are data; declare the few a realm needs at creation")
    for user in users:
        username = user["username"]
        for credential in user.get("credentials") or []:
            if (credential.get("type") or "password") != "password":
                continue
            if not credential.get("value"):
                converted.warnings.append(f"user {username}: the password is stored hashed "
                                          "in the JSON: not declared; set it in Keycloak")
                continue
            variable = re.sub(r"[^A-Za-z0-9]+", "_", username).strip("_").upper() + "_PASSWORD"
            converted.secrets[variable] = str(credential["value"])
            converted.document["users"][username]["password"] = f"${{env:{variable}}}"


def _not_managed(realm: Json) -> list[str]:
    """What the JSON sets that idpack does not manage (yet), one line each."""
    lines = [key for key, value in sorted(realm.items())
             if key not in READ_BY_KINDS and value not in (None, [], {}, "")]
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
