"""Load and validate realm configuration: YAML -> typed RealmConfig, with every problem
reported as `file:line: field.path: what is wrong`, all at once."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from provisioning.kinds.clients import CLIENTS
from provisioning.kinds.default_roles import DEFAULT_ROLES
from provisioning.kinds.identity_providers import IDENTITY_PROVIDERS
from provisioning.kinds.roles import BUILT_IN_REALM_ROLES, ROLES
from provisioning.kinds.smtp import SMTP
from provisioning.realm_json import read_realm_json
from provisioning.references import Secret
from provisioning.schema import REALM_FILE, RealmConfig, parse_realm_file
from provisioning.source import ConfigError, FieldPath, Source, load_file, merge

# The realm-management roles a service account may be given (Keycloak 26).
REALM_MANAGEMENT_ROLES = frozenset({
    "create-client", "impersonation", "manage-authorization", "manage-clients",
    "manage-events", "manage-identity-providers", "manage-realm", "manage-users",
    "query-clients", "query-groups", "query-realms", "query-users", "realm-admin",
    "view-authorization", "view-clients", "view-events", "view-identity-providers",
    "view-realm", "view-users",
})


@dataclass(frozen=True)
class LoadedConfig:
    config: RealmConfig
    source: Source


def load_config(paths: list[Path], env: Mapping[str, str], realm: str | None = None,
                notes: Callable[[str], None] | None = None) -> LoadedConfig:
    """Read the base file and overlays, validate, resolve references; ConfigError
    lists every problem with file, line and field. A `.json` file is Keycloak's own
    realm JSON (provisioning/realm_json.py): the secrets it holds are used unless the
    environment sets them, and `notes` hears its warnings and what is not managed."""
    sources: list[Source] = []
    found_secrets: dict[str, str] = {}
    for path in paths:
        if path.suffix.lower() != ".json":
            sources.append(load_file(path))
            continue
        converted = read_realm_json(path)
        sources.append(Source(converted.document, converted.locations, (path,)))
        found_secrets |= converted.secrets
        if notes is not None:
            for warning in converted.warnings:
                notes(f"{path}: {warning}")
            if converted.not_managed:
                notes(f"{path}: not managed by idpack (left as they are): "
                      + "; ".join(converted.not_managed))
    source = sources[0]
    for overlay in sources[1:]:
        source = merge(source, overlay)
    env = {**found_secrets, **env}
    data = dict(source.data)
    if realm is not None:
        data["realm"] = realm
    try:
        config = parse_realm_file(data, dict(env), paths[0].parent.resolve())
    except ValidationError as exc:
        raise ConfigError([_describe(source, error) for error in exc.errors()]) from None
    problems = _reference_problems(config, source) + _secret_problems(config, source)
    if problems:
        raise ConfigError(problems)
    if notes is not None:
        for alias, idp in IDENTITY_PROVIDERS.of(config).items():
            note = idp.switch_note(alias)
            if note is not None:
                notes(note)
    return LoadedConfig(config, source)


def _describe(source: Source, error: Any) -> str:
    path: FieldPath = tuple(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown field {path[-1]!r}"
        parent = _model_at(path[:-1])
        if parent is not None:
            known = [f.alias or n for n, f in parent.model_fields.items()]
            close = difflib.get_close_matches(str(path[-1]), known, n=1)
            message += f" (did you mean {close[0]!r}?)" if close else \
                f"; known fields: {', '.join(sorted(known))}"
    elif error["type"] == "missing":
        message = "is required"
    return source.error(path, message)


def _model_at(path: FieldPath) -> type[BaseModel] | None:
    """The schema model that a field path leads to, walking dict keys transparently."""
    model: type[BaseModel] = REALM_FILE
    expect_key = False
    for part in path:
        if expect_key:
            expect_key = False
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return None
        inner = _unwrap(field.annotation)
        if inner is None:
            return None
        model, expect_key = inner
    return model


def _unwrap(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """(model, is a dict of models) for Model, Model | None and dict[str, Model]."""
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate, False
        args: tuple[Any, ...] = getattr(candidate, "__args__", ())
        value = args[-1] if args else None
        if getattr(candidate, "__origin__", None) is dict and \
                isinstance(value, type) and issubclass(value, BaseModel):
            return value, True
    return None


def _reference_problems(config: RealmConfig, source: Source) -> list[str]:
    problems = []
    realm_roles = set(ROLES.of(config)) | BUILT_IN_REALM_ROLES
    for index, role in enumerate(DEFAULT_ROLES.of(config) or []):
        if role not in realm_roles:
            problems.append(source.error(("defaultRoles", index),
                                         f"role {role!r} is not declared under roles"))
    for client_id, client in CLIENTS.of(config).items():
        roles = client.serviceAccountRoles
        if roles is None:
            continue
        for index, role in enumerate(roles.realm):
            if role not in realm_roles:
                problems.append(source.error(
                    ("clients", client_id, "serviceAccountRoles", "realm", index),
                    f"role {role!r} is not declared under roles"))
        for owner, names in roles.clients.items():
            for index, role in enumerate(names):
                path = ("clients", client_id, "serviceAccountRoles", "clients", owner, index)
                if owner == "realm-management" and role not in REALM_MANAGEMENT_ROLES:
                    problems.append(source.error(path, f"realm-management has no role {role!r}"))
    for alias, idp in IDENTITY_PROVIDERS.of(config).items():
        if idp.metadata is not None and idp.metadata.file is not None:
            file = idp.metadata.file
            full = file if file.is_absolute() else source.files[0].parent / file
            if not full.is_file():
                problems.append(source.error(("identityProviders", alias, "metadata", "file"),
                                             f"metadata file {full} does not exist"))
    return problems


def _secret_problems(config: RealmConfig, source: Source) -> list[str]:
    """An unresolvable secret is an error before any change, unless its object is
    disabled (a provider kept in the file, switched off until its secret exists)."""
    problems = []

    def check(secret: Secret | None, enabled: bool, path: FieldPath) -> None:
        if secret is not None and secret.value is None and enabled:
            problems.append(source.error(path, f"secret {secret.reference}: {secret.problem}"))

    smtp = SMTP.of(config)
    if smtp is not None:
        check(smtp.password, True, ("smtp", "password"))
    for client_id, client in CLIENTS.of(config).items():
        check(client.secret, client.enabled, ("clients", client_id, "secret"))
    for alias, idp in IDENTITY_PROVIDERS.of(config).items():
        check(idp.clientSecret, idp.enabled, ("identityProviders", alias, "clientSecret"))
    return problems
