"""Realms for the kinds' plan tests, without a server: the file's side validated as the
CLI validates it, the live side built as Keycloak's partial export, client list and
user profile show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provisioning.kinds.base import PlanContext, ResourceKind
from provisioning.live import Json, LiveRealm, ServiceAccount
from provisioning.plan import Change, Plan
from provisioning.references import Secret
from provisioning.schema import RealmConfig, parse_realm_file

REALM = "r"
SECRETS = {"PORTAL_CLIENT_SECRET": "portal-secret-31c7", "GOOGLE_CLIENT_SECRET": "google-sec-8a2b",
           "SMTP_PASSWORD": "smtp-password-5d0e"}


def declared(**sections: Any) -> RealmConfig:
    """A realm file of these top-level sections, with the secrets above in its env."""
    return parse_realm_file({"realm": REALM, **sections}, SECRETS, Path())


def live_realm(*, clients: list[Json] | None = None, profile: Json | None = None,
               service_accounts: dict[str, ServiceAccount] | None = None,
               **export: Any) -> LiveRealm:
    """An existing realm: `export` is the partial export's fields (roles, smtpServer, ...)."""
    return LiveRealm(name=REALM, exists=True, export={"realm": REALM, **export},
                     client_list=clients or [], user_profile=profile,
                     service_accounts=service_accounts or {})


def plan(kind: ResourceKind, config: RealmConfig, live: LiveRealm, *,
         prune: tuple[str, ...] = (), metadata: dict[str, dict[str, str]] | None = None,
         ) -> list[Change]:
    return kind.plan(PlanContext(config=config, live=live, prune=frozenset(prune),
                                 imported_metadata=metadata or {}))


def fields(change: Change) -> list[tuple[str, Any, Any]]:
    """(path, before, after) of each field a change shows."""
    return [(f.path, f.before, f.after) for f in change.fields]


def summary(changes: list[Change]) -> list[tuple[str, str, str]]:
    return [(c.kind, c.name, c.action) for c in changes]


def shown(changes: list[Change]) -> str:
    """Everything a person or a CI log could see of these changes."""
    plan = Plan(REALM, tuple(changes))
    return plan.render() + plan.as_json() + repr(plan)


def fingerprint(value: str) -> str:
    """What idpack keeps in Keycloak beside a secret it set to this value."""
    return Secret.parse("${env:S}", {"S": value}, Path()).fingerprint()
