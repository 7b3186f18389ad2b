"""Field-by-field comparison of what the file declares with what Keycloak holds.

Only declared fields are compared: a field the file leaves out is not managed. A map
(attributes, config) is compared key by key: by default only the keys the file gives
(a map of settings, where Keycloak keeps its own keys too); named `exact`, its other
keys show as removed (a map the file gives whole); named `whole`, as one value. Lists
of plain values are sets to Keycloak (redirect URIs, event types), so their order never
counts as a change."""

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
    if want == "" and have is None:  # Keycloak leaves an empty text out
        return True
    return bool(want == have)


def field_changes(declared: Mapping[str, Any], live: Mapping[str, Any] | None, prefix: str = "",
                  whole: Collection[str] = (), exact: Collection[str] = ()) -> list[FieldChange]:
    live = live or {}
    changes: list[FieldChange] = []
    for key, want in declared.items():
        have = live.get(key)
        path = f"{prefix}{key}"
        if isinstance(want, Mapping) and key not in whole and isinstance(have, Mapping | None):
            changes += field_changes(want, have, f"{path}.", whole)
            if key in exact:
                changes += [FieldChange(f"{path}.{k}", v, None)
                            for k, v in (have or {}).items() if k not in want]
        elif not same(want, have):
            changes.append(FieldChange(path, have, want))
    return changes
