"""`idpack realm export`: the live realm written in the realm file's own schema, so
`export` then `plan` on the result shows no changes. Each kind writes its own part, in
registry order; secrets become references, `${env:<NAME>_CLIENT_SECRET}`, and only
where idpack set them (a fingerprint exists); Keycloak's built-in roles, clients and
client scopes are left out."""

from __future__ import annotations

import yaml

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds import KINDS
from provisioning.kinds.base import BUILT_IN_CLIENTS
from provisioning.kinds.organizations import read_organizations
from provisioning.kinds.scope_mappings import read_scope_mappings
from provisioning.live import (
    Json,
    LiveRealm,
    read_client_roles,
    read_live,
    read_service_accounts,
)


def export_realm(api: RealmAdmin) -> Json:
    live = read_live(api)
    if not live.exists:
        raise ValueError(f"realm {api.name} does not exist")
    read_service_accounts(api, live, [
        cid for cid, c in live.clients.items()
        if c.get("serviceAccountsEnabled") and cid not in BUILT_IN_CLIENTS])
    read_client_roles(api, live, [cid for cid in live.clients if cid not in BUILT_IN_CLIENTS])
    own_scopes = [s["name"] for s in live.export.get("clientScopes") or []]
    read_scope_mappings(api, live, [("clients", c) for c in live.clients
                                    if c not in BUILT_IN_CLIENTS]
                        + [("clientScopes", s) for s in own_scopes])
    if live.export.get("organizationsEnabled"):
        read_organizations(api, live)
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
