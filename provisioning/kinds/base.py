"""What every resource kind offers: plan its changes from the file and the live realm,
and apply one of those changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.live import LiveRealm
from provisioning.plan import Action, Change
from provisioning.schema import RealmConfig

MASKED = "**********"  # how Keycloak shows a secret it holds
FINGERPRINT_PREFIX = "idpack.fingerprint."


@dataclass(frozen=True)
class PlanContext:
    config: RealmConfig
    live: LiveRealm
    prune: frozenset[str] = frozenset()
    # IdP config maps Keycloak parsed from SAML metadata, by alias.
    imported_metadata: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def action(self) -> Action:
        """How an object that exists with every realm reads: created with a new realm."""
        return "update" if self.live.exists else "create"


class ResourceKind(Protocol):
    name: str

    def plan(self, ctx: PlanContext) -> list[Change]: ...

    def apply(self, api: RealmAdmin, change: Change) -> None: ...
