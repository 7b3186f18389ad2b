"""One pass of `idpack realm refresh-metadata`: the realm planned as usual (which
fetches and verifies each provider's signed metadata), and only the updates of
identity providers whose metadata comes from a URL applied. Each pass leaves a small
status file (when it last succeeded, what it refused) for `idpack health`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.engine import apply_plan, plan_realm
from provisioning.kinds.identity_providers import IDENTITY_PROVIDERS
from provisioning.plan import Plan
from provisioning.schema import RealmConfig
from provisioning.source import ConfigError

KIND = "identity provider"


def refresh_pass(api: RealmAdmin, config: RealmConfig, base_dir: Path, status: Path,
                 say: Callable[[str], None]) -> Plan:
    followed = sorted(alias for alias, idp in IDENTITY_PROVIDERS.of(config).items()
                      if idp.metadata is not None and idp.metadata.url is not None)
    if not followed:
        say("No identity provider declares its metadata by URL: nothing to refresh.")
        _record(status, ok=True, followed=followed)
        return Plan(config.realm, ())
    try:
        planned = plan_realm(api, config, base_dir=base_dir)
    except ConfigError as exc:
        _record(status, ok=False, followed=followed, error=str(exc))
        raise
    # Updates only: a provider the realm lacks is the realm job's to create (a pass
    # beside its first apply would race it).
    changes = tuple(c for c in planned.changes
                    if c.kind == KIND and c.name in followed and c.action == "update")
    result = Plan(config.realm, changes)
    if changes:
        say(result.render())
        apply_plan(api, result, say)
    for alias in followed:
        change = next((c for c in changes if c.name == alias), None)
        what = ", ".join(f.path for f in change.fields) if change else "no change"
        say(f"{alias}: metadata {IDENTITY_PROVIDERS.of(config)[alias].metadata.url} "  # type: ignore[union-attr]
            f"verified; {'applied: ' + what if change else what}.")
    _record(status, ok=True, followed=followed)
    return result


def _record(status: Path, *, ok: bool, followed: list[str], error: str | None = None) -> None:
    """Written whole (temp file, rename), so a reader never sees half of it."""
    previous: dict[str, object] = {}
    if status.is_file():
        try:
            previous = json.loads(status.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
    now = time.time()
    document = {**previous, "providers": followed, "last_pass": now,
                **({"last_success": now, "last_error": None} if ok else {"last_error": error})}
    status.parent.mkdir(parents=True, exist_ok=True)
    temporary = status.with_suffix(".tmp")
    temporary.write_text(json.dumps(document), encoding="utf-8")
    temporary.replace(status)
