"""The value types every kind's schema is built from: strings, numbers and booleans that
may be `${env:...}` / `${file:...}` references, Keycloak's string-only config values,
secrets, and the strict base model that refuses unknown fields.

Field names stay Keycloak's own (RealmRepresentation, ClientRepresentation, ...), so
the Admin REST docs explain them. A field left out of the file is not managed: idpack
never changes it, which is why `Strict.declared()` exists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, with_config

from provisioning.references import Secret, UnresolvedReference, resolve_text


def context_of(info: ValidationInfo) -> tuple[dict[str, str], Path]:
    """The environment and base folder references resolve against."""
    context = info.context or {}
    return context.get("env", {}), context.get("base_dir", Path())


def _interpolate(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, str) or "${" not in value:
        return value
    env, base_dir = context_of(info)
    try:
        return resolve_text(value, env, base_dir)
    except UnresolvedReference as exc:
        raise ValueError(str(exc)) from None


def _stringify(value: Any, info: ValidationInfo) -> Any:
    """Keycloak's config maps hold strings; YAML's true and 30 are welcome too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _interpolate(value, info)


def _secret(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("a secret must be a reference such as ${env:NAME}")
    env, base_dir = context_of(info)
    return Secret.parse(value, env, base_dir)


Text = Annotated[str, BeforeValidator(_interpolate)]
Int = Annotated[int, BeforeValidator(_interpolate)]
Bool = Annotated[bool, BeforeValidator(_interpolate)]
ConfigValue = Annotated[str, BeforeValidator(_stringify)]
SecretRef = Annotated[Secret, BeforeValidator(_secret)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              arbitrary_types_allowed=True)

    def declared(self) -> dict[str, Any]:
        """The fields the file sets, by their Keycloak names."""
        return {
            (field.alias or name): getattr(self, name)
            for name, field in type(self).model_fields.items() if name in self.model_fields_set
        }


# The shape of a part of Keycloak's realm JSON (a TypedDict): the fields idpack reads,
# typed; every other field is kept as it is.
json_shape = with_config(ConfigDict(extra="allow"))
