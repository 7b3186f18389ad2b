"""The roles a client's service account holds: exactly the declared realm roles and,
per client, exactly the declared client roles (the realm's default role stays)."""

from __future__ import annotations

from collections.abc import Iterable

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import BUILT_IN_CLIENTS, Kind, PlanContext, ReadScope
from provisioning.kinds.clients import CLIENTS
from provisioning.live import Json, LiveRealm, ServiceAccount, default_role_name
from provisioning.plan import Change, FieldChange


def read_service_accounts(api: RealmAdmin, live: LiveRealm,
                          client_ids: Iterable[str]) -> None:
    """Add the role mappings of these clients' service accounts (two reads each)."""
    for client_id in client_ids:
        client = live.clients.get(client_id)
        if client is None or not client.get("serviceAccountsEnabled"):
            continue
        user = api.service_account_user(client["id"])
        mappings = api.role_mappings(user["id"])
        live.service_accounts[client_id] = ServiceAccount(
            user_id=user["id"],
            realm_roles=frozenset(r["name"] for r in mappings.get("realmMappings", [])),
            client_roles={
                name: frozenset(r["name"] for r in entry.get("mappings", []))
                for name, entry in (mappings.get("clientMappings") or {}).items()
            },
        )


class ServiceAccountRolesKind(Kind):
    name = "service account roles"
    # Declared on the client (clients.X.serviceAccountRoles): see clients.py.

    def read(self, api: RealmAdmin, live: LiveRealm, scope: ReadScope) -> None:
        if scope.config is None:  # export: every service account of the realm's own
            wanted = [cid for cid, c in live.clients.items()
                      if c.get("serviceAccountsEnabled") and cid not in BUILT_IN_CLIENTS]
        else:
            wanted = [cid for cid, c in CLIENTS.of(scope.config).items()
                      if c.serviceAccountRoles is not None]
        read_service_accounts(api, live, wanted)

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        default_role = ctx.live.default_role
        for client_id, client in CLIENTS.of(ctx.config).items():
            wanted = client.serviceAccountRoles
            if wanted is None:
                continue
            live = ctx.live.service_accounts.get(client_id)
            have_realm = set(live.realm_roles) - {default_role} if live else set()
            fields = []
            if have_realm != set(wanted.realm):
                fields.append(FieldChange("realm", sorted(have_realm) or None,
                                          sorted(wanted.realm)))
            have_clients = dict(live.client_roles) if live else {}
            for owner in sorted(set(wanted.clients) | set(have_clients)):
                want = set(wanted.clients.get(owner, []))
                have = set(have_clients.get(owner, set()))
                if want != have:
                    fields.append(FieldChange(f"clients.{owner}", sorted(have) or None,
                                              sorted(want) or None))
            if fields:
                changes.append(Change(self.name, client_id, "create" if live is None
                                      else "update", tuple(fields),
                                      payload={"realm": sorted(wanted.realm),
                                               "clients": {k: sorted(v) for k, v
                                                           in wanted.clients.items()}}))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        client = api.client_by_client_id(change.name)
        if client is None:
            raise ValueError(f"client {change.name} does not exist")
        user_id = api.service_account_user(client["id"])["id"]
        mappings = api.role_mappings(user_id)
        default_role = default_role_name(api.name)
        have_realm = {r["name"]: r for r in mappings.get("realmMappings", [])}
        want_realm = set(change.payload["realm"])
        add = [api.role(n) for n in sorted(want_realm - set(have_realm))]
        remove = [r for n, r in have_realm.items() if n not in want_realm and n != default_role]
        if add:
            api.add_realm_role_mappings(user_id, add)
        if remove:
            api.remove_realm_role_mappings(user_id, remove)
        have_clients = mappings.get("clientMappings") or {}
        for owner in set(change.payload["clients"]) | set(have_clients):
            want = set(change.payload["clients"].get(owner, []))
            have = {r["name"]: r for r in (have_clients.get(owner) or {}).get("mappings", [])}
            if want == set(have):
                continue
            owner_client = api.client_by_client_id(owner)
            if owner_client is None:
                raise ValueError(f"client {owner} (owner of roles {sorted(want)}) does not exist")
            available = {r["name"]: r for r in api.client_roles(owner_client["id"])}
            missing = want - set(available)
            if missing:
                raise ValueError(f"client {owner} has no role {', '.join(sorted(missing))}")
            to_add = [available[n] for n in sorted(want - set(have))]
            to_remove = [r for n, r in have.items() if n not in want]
            if to_add:
                api.add_client_role_mappings(user_id, owner_client["id"], to_add)
            if to_remove:
                api.remove_client_role_mappings(user_id, owner_client["id"], to_remove)

    def export(self, live: LiveRealm) -> Json:
        """The roles of the service accounts read into the live realm, in their
        clients' entries (the realm's default role left out, as plan leaves it)."""
        entries: Json = {}
        for client_id, account in live.service_accounts.items():
            client = live.clients.get(client_id) or {}
            if client_id in BUILT_IN_CLIENTS or not client.get("serviceAccountsEnabled"):
                continue
            roles: Json = {}
            realm_roles = sorted(account.realm_roles - {live.default_role})
            if realm_roles:
                roles["realm"] = realm_roles
            if account.client_roles:
                roles["clients"] = {k: sorted(v) for k, v in account.client_roles.items()}
            entries[client_id] = {"serviceAccountRoles": roles}
        return {"clients": entries}
