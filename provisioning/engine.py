"""Plan and apply: read the live realm (the shared snapshot, then what each kind needs
besides), ask each kind for its changes in registry order, and execute a plan change
by change."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from idpack.keycloak.admin import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import PlanContext, ReadScope
from provisioning.live import read_live
from provisioning.plan import SYMBOL, Plan
from provisioning.registry import BY_NAME, KINDS, PRUNABLE
from provisioning.saml_metadata import read_saml_metadata
from provisioning.schema import RealmConfig
from provisioning.source import ConfigError

__all__ = ["PRUNABLE", "ApplyError", "apply_plan", "plan_realm"]


class ApplyError(ConfigError):
    pass


def plan_realm(api: RealmAdmin, config: RealmConfig, *, base_dir: Path,
               prune_all: bool = False, origin: str | None = None) -> Plan:
    """The plan; a problem only the live realm shows is a ConfigError naming the kind
    and object (and `origin`, the file, when given)."""
    # --prune: every prunable kind, as the registry lists them (prune_key).
    prune = frozenset(PRUNABLE) if prune_all else frozenset(config.prune)
    live = read_live(api)
    if live.exists:
        scope = ReadScope(config=config, prune=prune)
        for kind in KINDS:
            kind.read(api, live, scope)
    # Keycloak parses metadata in a realm's context; a realm this plan creates has
    # none yet, so the master realm parses for it.
    parser = api if live.exists else api.client.realm("master")
    ctx = PlanContext(config=config, live=live, prune=prune,
                      imported_metadata=read_saml_metadata(parser, config, base_dir))
    changes = []
    for kind in KINDS:
        try:
            changes += kind.plan(ctx)
        except ValueError as exc:
            where = f"{origin}: " if origin else ""
            raise ConfigError([f"{where}{kind.name}: {exc}"]) from None
    return Plan(config.realm, tuple(changes))


def apply_plan(api: RealmAdmin, plan: Plan, report: Callable[[str], None]) -> float:
    """Execute every change in order; the seconds it took. A failure names the change
    it stopped at; what was applied before it stays, and re-running converges."""
    started = time.monotonic()
    total = len(plan.changes)
    for index, change in enumerate(plan.changes, 1):
        report(f"[{index}/{total}] {SYMBOL[change.action]} {change.title}")
        try:
            BY_NAME[change.kind].apply(api, change)
        except (KeycloakRequestError, ValueError) as exc:
            raise ApplyError([f"apply stopped at {change.action} {change.title}: {exc}",
                              f"{index - 1} of {total} changes were applied; fix the cause "
                              "and run apply again to finish."]) from None
    return time.monotonic() - started
