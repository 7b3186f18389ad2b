"""A declared map of protocol mappers against the live list of one owner (a client or a
client scope): the changes that make them equal (each mapper's `config` exact), and the
map as the realm file writes it. The owner's kind says whether mappers the map does not
name go."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.diff import field_changes
from provisioning.kinds.clients import ProtocolMapper
from provisioning.live import Json
from provisioning.plan import Change, FieldChange


def mapper_changes(kind: str, owner_key: str, owner: str,
                   declared_mappers: Mapping[str, ProtocolMapper], live_list: list[Json],
                   *, remove_undeclared: bool) -> list[Change]:
    """`owner_key` names the owner in each change's payload ("client", "scope")."""
    changes = []
    live_mappers = {m["name"]: m for m in live_list}
    for name, mapper in declared_mappers.items():
        declared: dict[str, Any] = {"protocol": mapper.protocol,
                                    "protocolMapper": mapper.type,
                                    "config": dict(mapper.config)}
        live = live_mappers.get(name)
        title = f"{owner}/{name}"
        if live is None:
            changes.append(Change(kind, title, "create", tuple(field_changes(declared, {})),
                                  payload={owner_key: owner, "representation": {
                                      "name": name, **declared}}))
            continue
        fields = field_changes(declared, {**live, "config": live.get("config") or {}},
                               exact=("config",))
        if fields:
            changes.append(Change(kind, title, "update", tuple(fields), payload={
                owner_key: owner, "id": live["id"], "representation": {**live, **declared}}))
    if remove_undeclared:
        changes += [Change(kind, f"{owner}/{name}", "delete", (FieldChange("name", name, None),),
                           payload={owner_key: owner, "id": live["id"]})
                    for name, live in live_mappers.items() if name not in declared_mappers]
    return changes


def exported_mappers(live_list: list[Json]) -> dict[str, Json]:
    return {m["name"]: {"type": m["protocolMapper"],
                        "protocol": m.get("protocol") or "openid-connect",
                        "config": dict(m.get("config") or {})}
            for m in live_list}
