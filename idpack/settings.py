"""One way to configure every idpack service: a pydantic-settings class per service,
whose fields are its environment variables (`IDPACK_...`, and the few fixed names such
as KEYCLOAK_URL), each with its type, default and a one-line description.

A value comes from, in order: the environment (or the mapping given to `from_env`), the
local stack's `stack.json` for the few fields that name a part of the running stack
(where Keycloak is, the realm, the sidecar), then the default. `to_env()` is the other
way round: the environment that gives a child process exactly these settings, so the
stack never spells a variable's name itself. `describe()` says where each value came
from, secrets masked (`idpack config`).

Nothing else in idpack reads the environment for its configuration."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from idpack.errors import IdpackError
from idpack.store import check_location

DEFAULT_HOME = Path(".idpack")
MASK = "********"
_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("idpack_environment",
                                                                 default=None)
_STACK_FILE: ContextVar[bool] = ContextVar("idpack_stack_file", default=True)


def state_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The local stack's state folder: IDPACK_HOME, else `.idpack` where idpack runs."""
    return Path(env.get("IDPACK_HOME") or DEFAULT_HOME)


def read_stack_file(path: Path) -> dict[str, Any]:
    """The running local stack's stack.json (`{}` when none runs); a broken file is an
    error that names it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise IdpackError(f"{path} is not valid JSON ({exc}): remove it, or restart "
                          "`make run`, which writes it anew") from None
    if not isinstance(document, dict):
        raise IdpackError(f"{path} holds no JSON object: remove it, or restart `make run`")
    return document


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list given as "a,b,c" in the environment.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list)]
CommaSet = Annotated[frozenset[str], NoDecode, BeforeValidator(_comma_list)]


# Where a store lives (idpack.store.open_store): a Redis URL or an SQLite file path.
StoreLocation = Annotated[str, AfterValidator(check_location)]


def setting(default: Any, variable: str, description: str, *, secret: bool = False,
            stack_key: str | None = None, separator: str = ",",
            derived: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """A field read from `variable`. `stack_key`: read from the running local stack's
    stack.json when the environment leaves it unset. `secret`: never shown.
    `separator`: between the items of a list in the variable's text. `derived`: the
    default, computed from the fields declared before this one (pass `...` as
    `default`)."""
    extra: dict[str, Any] = {}
    if secret:
        extra["secret"] = True
    if stack_key:
        extra["stack_key"] = stack_key
    if separator != ",":
        extra["separator"] = separator
    if derived is not None:
        return Field(default_factory=derived, validation_alias=variable,
                     description=description, repr=not secret,
                     json_schema_extra=extra or None)
    return Field(default, validation_alias=variable, description=description,
                 repr=not secret, json_schema_extra=extra or None)


class _MappingSource(EnvSettingsSource):
    """The environment, from a given mapping instead of the process's."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return dict(self._mapping)


class _StackFileSource(PydanticBaseSettingsSource):
    """Fields marked with a stack_key, from the running local stack's stack.json."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._document: dict[str, Any] | None = None
        self._env = env

    def document(self) -> dict[str, Any]:
        if self._document is None:
            self._document = read_stack_file(state_dir(self._env) / "stack.json")
        return self._document

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        key = _extra(field).get("stack_key")
        if not key:
            return None, field_name, False
        return self.document().get(key), field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {}
        for name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, name)
            if value is not None:
                values[name] = value
        return values


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


class IdpackSettings(BaseSettings):
    """The base of every service's settings class."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore",
                                      case_sensitive=True, env_ignore_empty=True)
    # What `idpack config` and the README call the service.
    service: ClassVar[str] = ""

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        given = _ENVIRONMENT.get()
        environment = _MappingSource(settings_cls, given) if given is not None else env_settings
        if not _STACK_FILE.get():
            return init_settings, environment
        return (init_settings, environment,
                _StackFileSource(settings_cls, given if given is not None else os.environ))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, stack_file: bool = True,
                 **values: Any) -> Self:
        """The settings from `env` (the process's environment by default), the local
        stack's stack.json (unless `stack_file` is False) and the defaults; `values`
        given here come first. A bad value is an IdpackError naming its variable."""
        environment = _ENVIRONMENT.set(os.environ if env is None else env)
        stack = _STACK_FILE.set(stack_file)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise IdpackError(describe_error(cls, exc)) from None
        finally:
            _STACK_FILE.reset(stack)
            _ENVIRONMENT.reset(environment)

    @classmethod
    def variables(cls) -> dict[str, tuple[str, FieldInfo]]:
        """Environment variable -> (field name, field), in declaration order."""
        return {str(field.validation_alias): (name, field)
                for name, field in cls.model_fields.items()
                if isinstance(field.validation_alias, str)}

    def to_env(self) -> dict[str, str]:
        """The environment that gives a child process these same settings."""
        env = {}
        for variable, (name, field) in self.variables().items():
            text = _as_text(getattr(self, name), _extra(field).get("separator", ","))
            if text is not None:
                env[variable] = text
        return env

    def describe(self, env: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
        """(variable, value, where it came from) for every setting; secrets masked."""
        env = os.environ if env is None else env
        stack = _StackFileSource(type(self), env)
        rows = []
        for variable, (name, field) in self.variables().items():
            value = getattr(self, name)
            if env.get(variable):
                source = "environment"
            elif _extra(field).get("stack_key") and \
                    stack.document().get(_extra(field)["stack_key"]) is not None:
                source = "stack file"
            else:
                source = "default"
            text = _as_text(value, _extra(field).get("separator", ","))
            shown = MASK if _extra(field).get("secret") and text else (text or "(unset)")
            rows.append((variable, shown, source))
        return rows


def _as_text(value: Any, separator: str = ",") -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, frozenset | set):
        return separator.join(sorted(str(v) for v in value))
    if isinstance(value, list | tuple):
        return separator.join(str(v) for v in value)
    return str(value)


def describe_error(cls: type[IdpackSettings], exc: ValidationError) -> str:
    """A settings error in the terms a user set: the variable, what it holds, and why."""
    names = {name: variable for variable, (name, _) in cls.variables().items()}
    fields = {variable: field for variable, (_, field) in cls.variables().items()}
    problems = []
    for error in exc.errors():
        if error["type"] == "default_factory_not_called":
            continue  # a default derived from a field in error: that error says it all
        name = str(error["loc"][0]) if error["loc"] else ""
        variable = names.get(name, name)
        field = fields.get(variable)
        if error["type"] == "missing":
            local = " (or a running `make run` stack, whose stack.json says)" if (
                field is not None and _extra(field).get("stack_key")) else ""
            problems.append(f"{variable} is not set{local}")
            continue
        message = error["msg"].removeprefix("Value error, ")
        if not variable:  # a rule across fields: its message names them
            problems.append(message)
            continue
        given = error.get("input")
        shown = f"={given!r}" if isinstance(given, str | int | float) and not _is_secret(
            cls, name) else ""
        problems.append(f"{variable}{shown}: {message}")
    what = f"the {cls.service} settings" if cls.service else "settings"
    return f"{what}: " + "; ".join(problems)


def _is_secret(cls: type[IdpackSettings], name: str) -> bool:
    field = cls.model_fields.get(name)
    return field is not None and bool(_extra(field).get("secret"))


def markdown_table(classes: Iterable[type[IdpackSettings]]) -> str:
    """The README's configuration tables: one per service, from the classes."""
    parts = []
    for cls in classes:
        parts += [f"**{cls.service}**", "", "| variable | default | what |",
                  "| --- | --- | --- |"]
        for variable, (_, field) in cls.variables().items():
            default = (_as_text(field.default, _extra(field).get("separator", ","))
                       if not field.is_required() and field.default_factory is None
                       else None)
            shown = (f"`{default}`" if default not in (None, "") else
                     "derived" if field.default_factory is not None else "unset")
            if _extra(field).get("stack_key"):
                shown += " (or the local stack's)"
            parts.append(f"| `{variable}` | {shown} | {field.description or ''} |")
        parts.append("")
    return "\n".join(parts)


# The hosts short links may lead to when nothing else is said: the local stack's Keycloak.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


class RealmServiceSettings(IdpackSettings):
    """What every service working on one realm of one Keycloak reads first: the local
    stack's state folder, where Keycloak is and which realm (both the running local
    stack's when unset)."""

    home: Path = setting(DEFAULT_HOME, "IDPACK_HOME", "The local stack's state folder "
                         "(stack.json, the default store)")
    keycloak_url: str = setting(..., "KEYCLOAK_URL", "Keycloak's base URL",
                                stack_key="keycloak_url")
    realm: str = setting("mikrocloud", "IDPACK_REALM", "The realm", stack_key="realm")

    @field_validator("keycloak_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")
