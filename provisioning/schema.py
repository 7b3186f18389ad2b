"""The realm file's schema: its name, `prune:`, and one top-level section per
kind-declared Section (provisioning/kinds/), in registry order, built on the value types
of schema_types.py. Field names are Keycloak's own (RealmRepresentation,
ClientRepresentation, ...) so the Admin REST docs explain them; idpack only adds
structure where Keycloak's is awkward (mappers under their provider, SMTP and events as
sections, service-account roles on the client).

A field left out of the file is not managed: idpack never changes it."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, create_model

from provisioning.kinds.base import RealmConfig
from provisioning.registry import PRUNABLE, SECTIONS, prunable_text

__all__ = ["REALM_FILE", "RealmConfig", "parse_realm_file"]


def _prunable(key: str) -> str:
    if key not in PRUNABLE:
        close = difflib.get_close_matches(key, PRUNABLE, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{key!r} is not a prunable kind{hint}; "
                         f"the prunable kinds are {prunable_text()}")
    return key


PruneKey = Annotated[str, AfterValidator(_prunable)]

_FIELDS: dict[str, Any] = {
    "prune": (list[PruneKey], Field(default_factory=list)),
    **{s.name: (s.annotation, Field(**s.field)) for s in SECTIONS}}
if len(_FIELDS) != len(SECTIONS) + 1:
    raise TypeError("two kinds declare one section of the realm file")
REALM_FILE: type[RealmConfig] = create_model("RealmFile", __base__=RealmConfig, **_FIELDS)


def parse_realm_file(data: Any, env: dict[str, str] | None = None,
                     base_dir: Path | None = None) -> RealmConfig:
    """The realm file's data validated, `${env:...}` and `${file:...}` references
    resolved from `env` and relative to `base_dir`."""
    return REALM_FILE.model_validate(data, context={"env": env or {},
                                                    "base_dir": base_dir or Path()})
