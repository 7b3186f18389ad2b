"""`idpack realm export`: the live realm written in the realm file's own schema, so
`export` then `plan` on the result shows no changes. Each kind reads what it needs and
writes its own part, in registry order; secrets become references,
`${env:<NAME>_CLIENT_SECRET}`, and only where idpack set them (a fingerprint exists);
Keycloak's built-in roles, clients and client scopes are left out."""

from __future__ import annotations

import yaml

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import ReadScope
from provisioning.live import Json, LiveRealm, read_live
from provisioning.registry import KINDS


def export_realm(api: RealmAdmin) -> Json:
    live = read_live(api)
    if not live.exists:
        raise ValueError(f"realm {api.name} does not exist")
    for kind in KINDS:
        kind.read(api, live, ReadScope())  # everything of the realm's own
    return realm_document(live)


def realm_document(live: LiveRealm) -> Json:
    """Every kind's part of the file, merged: a kind that writes into another's
    entries (a client's protocol mappers) adds keys there and replaces none."""
    document: Json = {}
    for kind in KINDS:
        part = kind.export(live)
        if part:
            document = _merged(document, part)
    return document


def _merged(base: Json, part: Json) -> Json:
    """`part` over `base`, mappings key by key; neither is changed (they may hold the
    live realm's own dicts)."""
    merged = dict(base)
    for key, value in part.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            value = _merged(current, value)
        merged[key] = value
    return merged


def to_yaml(document: Json) -> str:
    header = ("# Exported from Keycloak by `idpack realm export`. Secrets are references:\n"
              "# set the named environment variables before `idpack realm plan`.\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
