"""What a RealmRepresentation document declares, checked against the live realm read
back through the Admin API. The rules are written here, from the README's table of
kinds, and share nothing with idpack's own planning (provisioning/): a bug there is
not repeated here.

- A declared object's declared fields hold what the document says; lists of plain
  values are sets; the maps the document gives are whole maps, except the maps of
  Keycloak's own settings (realm, client and client-scope attributes, identity-provider
  and component config, required-action config, users' attributes), where only the keys
  the document gives are checked.
- What the document leaves out is not checked, unless the document was applied with
  `--prune` (`pruned`): then the prunable objects of the realm are exactly the declared
  ones and Keycloak's own.
- Secrets are masked on read: not compared.

`mismatches` returns every difference found, as readable lines, so a failing step
shows all that is wrong at once."""

from __future__ import annotations

import json
from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from tests.support.realm_match import access, login, realm
from tests.support.realm_match.rules import Json, same


def mismatches(api: RealmAdmin, document: Json, *, pruned: bool = False) -> list[str]:
    live = api.export(clients=True, roles=True)
    found: list[str] = []

    def check(where: str, want: Any, have: Any) -> None:
        if not same(want, have):
            found.append(f"{where}: declared {json.dumps(want, default=str)}, "
                         f"live {json.dumps(have, default=str)}")

    realm.settings(document, live, check)
    access.roles(document, live, check, pruned)
    access.groups(document, live, check, pruned)
    access.clients(document, live, check, pruned)
    access.scope_mappings(document, live, check)
    login.flows(document, live, check, pruned)
    login.identity_providers(document, live, check, pruned)
    realm.components(document, live, check, pruned)
    realm.client_policies(document, live, check, pruned)
    realm.localization(document, live, check, pruned)
    if "organizations" in document:
        login.organizations(api, document, check, pruned)
    if any(not u.get("serviceAccountClientId") for u in document.get("users") or []):
        access.users(api, document, live, check)
    if realm.profile_document(document) is not None:
        realm.user_profile(api, document, check)
    return found
