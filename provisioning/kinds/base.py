"""What every resource kind offers, and the few facts about Keycloak that several kinds
share.

A kind is one module's class with the same small interface: its name as the plan
prints it, the key under `prune:` that lets it delete (or None), the changes that
would make Keycloak match the file, applying one of those changes, and its part of
the exported realm file. Its schema models live in the same module; RealmConfig
gathers them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.live import Json, LiveRealm
from provisioning.plan import Action, Change

if TYPE_CHECKING:  # the schema imports every kind's models, so only mypy looks back
    from provisioning.schema import RealmConfig

MASKED = "**********"  # how Keycloak shows a secret it holds
FINGERPRINT_PREFIX = "idpack.fingerprint."
# Keycloak makes these clients with every realm: a file may tune them, but they are
# never pruned nor exported, and neither is what hangs on them (mappers, scopes, ...).
BUILT_IN_CLIENTS = frozenset({"account", "account-console", "admin-cli", "broker",
                              "realm-management", "security-admin-console"})


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
    def prune_key(self) -> str | None:
        """The entry of `prune:` (and of `--prune`) that lets plan delete this kind's
        undeclared objects; None for a kind that never deletes."""

    def plan(self, ctx: PlanContext) -> list[Change]:
        """The changes that make the live realm match the file (pure: no requests)."""

    def apply(self, api: RealmAdmin, change: Change) -> None:
        """Make one of this kind's planned changes in Keycloak."""

    def export(self, live: LiveRealm) -> Json | None:
        """This kind's part of the realm file written from the live realm: top-level
        keys, merged key by key with the other kinds' parts (a client's protocol mappers
        land in its entry under `clients`); None when it has nothing to write."""


def pick(source: Json, fields: Iterable[str]) -> Json:
    """The fields of a Keycloak representation that hold a value, for export."""
    return {f: source[f] for f in fields if source.get(f) is not None}


def secret_variable(name: str) -> str:
    """The environment variable an exported secret is read from: portal -> PORTAL_..."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() + "_CLIENT_SECRET"


def secret_reference(name: str) -> str:
    """What export writes for a secret idpack set: a reference, never a value."""
    return f"${{env:{secret_variable(name)}}}"
