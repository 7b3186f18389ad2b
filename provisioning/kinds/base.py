"""What every resource kind offers, and the few facts about Keycloak that several kinds
share.

A kind is one module's class with the same small interface: its name as the plan
prints it, the sections of the realm file it declares, the RealmRepresentation fields
it reads from Keycloak's realm JSON, the key under `prune:` that lets it delete (or
None); then reading what it needs of the live realm beyond the shared snapshot, the
changes that would make Keycloak match the file, applying one of those changes, and
its part of the exported realm file. The ordered registry (provisioning/registry.py)
lists the kinds; nothing here imports it, and the realm file's schema is built from it.

The rule every kind follows (README, "What idpack manages"): a declared object's
declared fields are exact, a map or a list the file gives being the whole map or list;
what the file does not declare is left alone unless pruned."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast, get_args

from pydantic import Field

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.live import Json, LiveRealm
from provisioning.plan import Action, Change
from provisioning.schema_types import Strict

MASKED = "**********"  # how Keycloak shows a secret it holds
FINGERPRINT_PREFIX = "idpack.fingerprint."
# Keycloak makes these clients with every realm: a file may tune them, but they are
# never pruned nor exported, and neither is what hangs on them (mappers, scopes, ...).
BUILT_IN_CLIENTS = frozenset({"account", "account-console", "admin-cli", "broker",
                              "realm-management", "security-admin-console"})

T = TypeVar("T")


class RealmConfig(Strict):
    """The realm file: its name, the kinds to prune, and each kind's sections (added by
    provisioning/schema.py from the registry, so a kind's module alone declares them)."""

    realm: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    # Kinds whose undeclared objects plan deletes (Keycloak's built-in ones never).
    prune: list[str] = Field(default_factory=list)


class Section(Generic[T]):
    """One top-level section of the realm file, declared by the kind that manages it:
    `ROLES = Section[dict[str, Role]]("roles", default_factory=dict)`. The type given
    in brackets is both what `ROLES.of(config)` returns to mypy and the section's schema
    (read back from the subscripted class at run time)."""

    def __init__(self, name: str, **field: Any) -> None:
        self.name = name
        self.field = field

    @property
    def annotation(self) -> Any:
        return get_args(self.__orig_class__)[0]  # type: ignore[attr-defined]

    def of(self, config: RealmConfig) -> T:
        return cast(T, getattr(config, self.name))

    def declared_in(self, config: RealmConfig) -> bool:
        """Whether the file gives this section (a default is not given)."""
        return self.name in config.model_fields_set


@dataclass(frozen=True)
class ReadScope:
    """What to read: for plan, the objects the file declares or prunes; for export
    (config None), every object of the realm."""

    config: RealmConfig | None = None
    prune: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PlanContext:
    config: RealmConfig
    live: LiveRealm
    prune: frozenset[str] = frozenset()  # prune keys (see ResourceKind.prune_key)
    # IdP config maps Keycloak parsed from SAML metadata, by alias.
    imported_metadata: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def action(self) -> Action:
        """How an object that exists with every realm reads: created with a new realm."""
        return "update" if self.live.exists else "create"


class ResourceKind(Protocol):
    name: str  # as the plan prints it: "client", "identity provider mapper"

    @property
    def sections(self) -> tuple[Section[Any], ...]:
        """The realm file's top-level sections this kind declares."""

    @property
    def representation(self) -> Mapping[str, Any]:
        """The RealmRepresentation fields this kind reads from Keycloak's realm JSON,
        with their shape (TypedDicts): checked before a realm JSON is read, so a wrong
        one is an error naming its place in the JSON, never a traceback."""

    @property
    def prune_key(self) -> str | None:
        """The entry of `prune:` (and of `--prune`) that lets plan delete this kind's
        undeclared objects; None for a kind that never deletes."""

    def read(self, api: RealmAdmin, live: LiveRealm, scope: ReadScope) -> None:
        """Add to the snapshot what this kind needs beyond the shared reads of
        provisioning/live.py (a fixed few requests, never one per object of the realm)."""

    def plan(self, ctx: PlanContext) -> list[Change]:
        """The changes that make the live realm match the file (pure: no requests)."""

    def apply(self, api: RealmAdmin, change: Change) -> None:
        """Make one of this kind's planned changes in Keycloak."""

    def export(self, live: LiveRealm) -> Json | None:
        """This kind's part of the realm file written from the live realm (or from a
        realm JSON read as one): top-level keys, merged key by key with the other kinds'
        parts (a client's protocol mappers land in its entry under `clients`); None when
        it has nothing to write. What the source does not hold is not written."""


class Kind:
    """The defaults of ResourceKind: no sections, nothing read from realm JSON, never
    prunes, nothing to read beyond the shared snapshot, nothing to export."""

    sections: ClassVar[tuple[Section[Any], ...]] = ()
    representation: ClassVar[Mapping[str, Any]] = {}
    prune_key: str | None = None

    def read(self, api: RealmAdmin, live: LiveRealm, scope: ReadScope) -> None:
        return None

    def export(self, live: LiveRealm) -> Json | None:
        return None


def pick(source: Json, fields: Iterable[str]) -> Json:
    """The fields of a Keycloak representation that hold a value, for export."""
    return {f: source[f] for f in fields if source.get(f) is not None}


def secret_variable(name: str) -> str:
    """The environment variable an exported secret is read from: portal -> PORTAL_..."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() + "_CLIENT_SECRET"


def secret_reference(name: str) -> str:
    """What export writes for a secret idpack set: a reference, never a value."""
    return f"${{env:{secret_variable(name)}}}"


def unique(key: str) -> Any:
    """A validator for a list of RealmRepresentation objects: each `key` once."""
    def check(items: list[Json] | None) -> list[Json] | None:
        seen: dict[Any, int] = {}
        for index, item in enumerate(items or []):
            name = item.get(key)
            if name in seen:
                raise ValueError(f"[{index}].{key} {name!r} appears twice (first at "
                                 f"[{seen[name]}])")
            seen[name] = index
        return items
    return check
