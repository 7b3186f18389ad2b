"""Field-by-field comparison of what the file declares with what Keycloak holds.

Only declared fields are compared: a field the file leaves out is not managed. Maps
(attributes, config) are compared key by key, so keys set by others survive, unless
the kind names them as compared whole. Lists of plain values are sets to Keycloak
(redirect URIs, event types), so their order never counts as a change."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from provisioning.plan import FieldChange


def same(want: Any, have: Any) -> bool:
    if isinstance(want, list) and isinstance(have, list) and all(
        isinstance(v, str | int | bool) for v in [*want, *have]
    ):
        return sorted(map(str, want)) == sorted(map(str, have))
    if isinstance(want, list) and have is None:
        return not want
    return bool(want == have)


def field_changes(declared: Mapping[str, Any], live: Mapping[str, Any] | None, prefix: str = "",
                  whole: Collection[str] = ()) -> list[FieldChange]:
    live = live or {}
    changes: list[FieldChange] = []
    for key, want in declared.items():
        have = live.get(key)
        path = f"{prefix}{key}"
        if isinstance(want, Mapping) and key not in whole and isinstance(have, Mapping | None):
            changes += field_changes(want, have, f"{path}.", whole)
        elif not same(want, have):
            changes.append(FieldChange(path, have, want))
    return changes
