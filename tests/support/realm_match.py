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
from collections.abc import Iterator
from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin

Json = dict[str, Any]
MASKED = "**********"
SECRET_CONFIG = {"clientSecret", "bindCredential", "secret", "privateKey"}
BUILT_IN_REALM_ROLES = {"offline_access", "uma_authorization"}
BUILT_IN_CLIENTS = {"account", "account-console", "admin-cli", "broker", "realm-management",
                    "security-admin-console"}
BUILT_IN_SCOPES = {"acr", "address", "basic", "email", "microprofile-jwt", "offline_access",
                   "organization", "phone", "profile", "role_list", "roles",
                   "saml_organization", "service_account", "web-origins", "AuthnContextClassRef"}
USER_PROFILE = "org.keycloak.userprofile.UserProfileProvider"
BUILT_IN_COMPONENTS = {"rsa-generated", "rsa-enc-generated", "hmac-generated-hs512",
                       "hmac-generated", "aes-generated"}
# Top-level fields checked by their own rules below, not as plain settings.
COLLECTIONS = {"id", "realm", "roles", "defaultRole", "groups", "defaultGroups", "clients",
               "clientScopes", "scopeMappings", "clientScopeMappings", "authenticationFlows",
               "authenticatorConfig", "identityProviders", "identityProviderMappers",
               "components", "clientPolicies", "clientProfiles", "localizationTexts",
               "organizations", "users", "requiredActions", "smtpServer", "attributes"}


def mismatches(api: RealmAdmin, document: Json, *, pruned: bool = False) -> list[str]:
    live = api.export(clients=True, roles=True)
    found: list[str] = []

    def check(where: str, want: Any, have: Any) -> None:
        if not _same(want, have):
            found.append(f"{where}: declared {json.dumps(want, default=str)}, "
                         f"live {json.dumps(have, default=str)}")

    _settings(document, live, check)
    _roles(document, live, check, pruned)
    _groups(document, live, check, pruned)
    _clients(document, live, check, pruned)
    _scope_mappings(document, live, check)
    _flows(document, live, check, pruned)
    _identity_providers(document, live, check, pruned)
    _components(document, live, check, pruned)
    _client_policies(document, live, check, pruned)
    _localization(document, live, check, pruned)
    if "organizations" in document:
        _organizations(api, document, check, pruned)
    if any(not u.get("serviceAccountClientId") for u in document.get("users") or []):
        _users(api, document, live, check)
    if _profile_document(document) is not None:
        _user_profile(api, document, check)
    return found


def _same(want: Any, have: Any) -> bool:
    """Lists of plain values are sets; maps and lists of maps compare exactly."""
    if isinstance(want, list) and all(isinstance(v, str | int | bool) for v in want):
        return isinstance(have, list | None) and sorted(map(str, want)) == sorted(
            map(str, have or []))
    if isinstance(want, dict):
        return isinstance(have, dict | None) and set(want) == set(have or {}) and all(
            _same(v, (have or {})[k]) for k, v in want.items())
    if want == "" and have is None:  # Keycloak leaves an empty text out
        return True
    if isinstance(want, bool | int) and isinstance(have, str):
        return str(want).lower() == have.lower()
    return bool(want == have)


def _by(items: Any, key: str) -> dict[str, Json]:
    return {item[key]: item for item in items or []}


def _settings(document: Json, live: Json, check: Any) -> None:
    for key, want in document.items():
        if key not in COLLECTIONS and not isinstance(want, dict):
            check(key, want, live.get(key))
    for key, want in (document.get("attributes") or {}).items():
        check(f"attributes.{key}", want, (live.get("attributes") or {}).get(key))
    if "smtpServer" in document:
        server = {k: str(v).lower() if isinstance(v, bool) else str(v)
                  for k, v in document["smtpServer"].items() if k != "password"}
        check("smtpServer", server, {k: v for k, v in (live.get("smtpServer") or {}).items()
                                     if k != "password"})
    actions = _by(live.get("requiredActions"), "alias")
    for action in document.get("requiredActions") or []:
        have = actions.get(action["alias"]) or {}
        for key, want in action.items():
            if key == "config":
                for name, value in want.items():
                    check(f"requiredActions {action['alias']} config.{name}", value,
                          (have.get("config") or {}).get(name))
            elif key not in ("alias", "name", "providerId"):
                check(f"requiredActions {action['alias']}.{key}", want, have.get(key))


def _role_fields(where: str, role: Json, have: Json | None, check: Any) -> None:
    if have is None:
        check(where, "present", None)
        return
    for key in ("description", "attributes"):
        if key in role:
            check(f"{where}.{key}", role[key], have.get(key) or ({} if key == "attributes"
                                                                 else None))
    if "composites" in role:
        declared = role["composites"] or {}
        held = have.get("composites") or {}
        check(f"{where}.composites.realm", declared.get("realm") or [], held.get("realm"))
        check(f"{where}.composites.client",
              {c: sorted(n) for c, n in (declared.get("client") or {}).items() if n},
              {c: sorted(n) for c, n in (held.get("client") or {}).items() if n})


def _roles(document: Json, live: Json, check: Any, pruned: bool) -> None:
    roles = document.get("roles") or {}
    held = _by((live.get("roles") or {}).get("realm"), "name")
    default_role = live["defaultRole"]["name"]
    for role in roles.get("realm") or []:
        if role["name"] == default_role or role["name"] == (document.get("defaultRole")
                                                            or {}).get("name"):
            # The default roles: its realm composites, exactly.
            declared = (role.get("composites") or {}).get("realm") or []
            check("default roles", declared,
                  ((held[default_role].get("composites") or {}).get("realm")))
            continue
        _role_fields(f"role {role['name']}", role, held.get(role["name"]), check)
    if pruned and "roles" in document:
        want = {r["name"] for r in roles.get("realm") or []} | BUILT_IN_REALM_ROLES | {
            default_role}
        check("realm roles (pruned)", sorted(want), sorted(held))
    client_roles = (live.get("roles") or {}).get("client") or {}
    for client_id, declared in (roles.get("client") or {}).items():
        have = _by(client_roles.get(client_id), "name")
        for role in declared:
            _role_fields(f"client role {client_id}/{role['name']}", role,
                         have.get(role["name"]), check)
        if pruned:
            check(f"roles of client {client_id} (pruned)",
                  sorted(r["name"] for r in declared), sorted(have))


def _walk_groups(groups: Any, parent: str = "") -> Iterator[tuple[str, Json]]:
    for group in groups or []:
        path = f"{parent}/{group['name']}"
        yield path, group
        yield from _walk_groups(group.get("subGroups"), path)


def _groups(document: Json, live: Json, check: Any, pruned: bool) -> None:
    held = dict(_walk_groups(live.get("groups")))
    declared = dict(_walk_groups(document.get("groups")))
    for path, group in declared.items():
        have = held.get(path)
        if have is None:
            check(f"group {path}", "present", None)
            continue
        for key in ("attributes", "realmRoles", "clientRoles"):
            if key in group:
                want = group[key]
                if key == "clientRoles":
                    want = {c: sorted(n) for c, n in want.items() if n}
                    check(f"group {path}.{key}", want, {
                        c: sorted(n) for c, n in (have.get(key) or {}).items() if n})
                else:
                    check(f"group {path}.{key}", want, have.get(key) or (
                        {} if key == "attributes" else []))
    if pruned and "groups" in document:
        check("groups (pruned)", sorted(declared), sorted(held))
    if "defaultGroups" in document:
        check("defaultGroups", document["defaultGroups"], live.get("defaultGroups"))


def _clients(document: Json, live: Json, check: Any, pruned: bool) -> None:
    held = _by(live.get("clients"), "clientId")
    flow_aliases = {f.get("id"): f["alias"] for f in live.get("authenticationFlows") or []}
    for client in document.get("clients") or []:
        client_id = client["clientId"]
        have = held.get(client_id)
        if have is None:
            check(f"client {client_id}", "present", None)
            continue
        for key, want in client.items():
            where = f"client {client_id}.{key}"
            if key in ("clientId", "id", "secret"):
                continue
            if key == "attributes":
                for name, value in want.items():
                    check(f"{where}.{name}", value, (have.get("attributes") or {}).get(name))
            elif key == "protocolMappers":
                mappers = _by(have.get("protocolMappers"), "name")
                check(f"{where} (names)", sorted(m["name"] for m in want), sorted(mappers))
                for mapper in want:
                    got = mappers.get(mapper["name"]) or {}
                    check(f"{where} {mapper['name']}.protocolMapper", mapper["protocolMapper"],
                          got.get("protocolMapper"))
                    check(f"{where} {mapper['name']}.config",
                          {k: str(v).lower() if isinstance(v, bool) else str(v)
                           for k, v in (mapper.get("config") or {}).items()},
                          got.get("config") or {})
            elif key == "authenticationFlowBindingOverrides":
                check(where, want, {k: flow_aliases.get(v, v)
                                    for k, v in (have.get(key) or {}).items()})
            else:
                check(where, want, have.get(key))
    if pruned and "clients" in document:
        declared = {c["clientId"] for c in document.get("clients") or []}
        check("clients (pruned)", sorted(declared - BUILT_IN_CLIENTS),
              sorted(set(held) - BUILT_IN_CLIENTS))
    accounts = {u.get("serviceAccountClientId"): u for u in live.get("users") or []}
    default_role = live["defaultRole"]["name"]
    for user in document.get("users") or []:
        client_id = user.get("serviceAccountClientId")
        if not client_id:
            continue
        have = accounts.get(client_id) or {}
        check(f"service account {client_id}.realmRoles",
              [r for r in user.get("realmRoles") or [] if r != default_role],
              [r for r in have.get("realmRoles") or [] if r != default_role])
        check(f"service account {client_id}.clientRoles",
              {c: sorted(r) for c, r in (user.get("clientRoles") or {}).items() if r},
              {c: sorted(r) for c, r in (have.get("clientRoles") or {}).items() if r})
    scopes = _by(live.get("clientScopes"), "name")
    for scope in document.get("clientScopes") or []:
        have = scopes.get(scope["name"])
        if have is None:
            check(f"client scope {scope['name']}", "present", None)
            continue
        for key in ("description", "protocol"):
            if key in scope:
                check(f"client scope {scope['name']}.{key}", scope[key], have.get(key))
        for name, value in (scope.get("attributes") or {}).items():
            check(f"client scope {scope['name']}.attributes.{name}", value,
                  (have.get("attributes") or {}).get(name))
    if pruned and "clientScopes" in document:
        declared = {s["name"] for s in document["clientScopes"]}
        check("client scopes (pruned)", sorted(declared - BUILT_IN_SCOPES),
              sorted(set(scopes) - BUILT_IN_SCOPES))
    for key in ("defaultDefaultClientScopes", "defaultOptionalClientScopes"):
        if key in document:
            check(key, document[key], live.get(key))


def _mappings(realm: Json) -> dict[tuple[str, str], Json]:
    """(client|clientScope, holder) -> {"realm": [...], "clients": {owner: [...]}}."""
    found: dict[tuple[str, str], Json] = {}
    for entry in realm.get("scopeMappings") or []:
        for key in ("client", "clientScope"):
            if entry.get(key):
                found.setdefault((key, entry[key]), {}).setdefault("realm", []).extend(
                    entry.get("roles") or [])
    for owner, entries in (realm.get("clientScopeMappings") or {}).items():
        for entry in entries:
            for key in ("client", "clientScope"):
                if entry.get(key):
                    found.setdefault((key, entry[key]), {}).setdefault("clients", {}).setdefault(
                        owner, []).extend(entry.get("roles") or [])
    return found


def _scope_mappings(document: Json, live: Json, check: Any) -> None:
    if "scopeMappings" not in document and "clientScopeMappings" not in document:
        return
    declared, held = _mappings(document), _mappings(live)
    holders = [("client", c["clientId"]) for c in document.get("clients") or []
               if c["clientId"] not in BUILT_IN_CLIENTS]
    holders += [("clientScope", s["name"]) for s in document.get("clientScopes") or []
                if s["name"] not in BUILT_IN_SCOPES]
    for holder in holders:
        want, have = declared.get(holder, {}), held.get(holder, {})
        check(f"scope mappings of {holder[0]} {holder[1]}.realm", want.get("realm") or [],
              have.get("realm") or [])
        check(f"scope mappings of {holder[0]} {holder[1]}.clients",
              {o: sorted(r) for o, r in (want.get("clients") or {}).items() if r},
              {o: sorted(r) for o, r in (have.get("clients") or {}).items() if r})


def _steps(flow: Json) -> list[tuple[str, str]]:
    steps = sorted(flow.get("authenticationExecutions") or [],
                   key=lambda e: e.get("priority") or 0)
    return [(str(e.get("flowAlias") if e.get("authenticatorFlow") else e.get("authenticator")),
             str(e.get("requirement"))) for e in steps]


def _flows(document: Json, live: Json, check: Any, pruned: bool) -> None:
    held = _by(live.get("authenticationFlows"), "alias")
    configs = _by(live.get("authenticatorConfig"), "alias")
    for flow in document.get("authenticationFlows") or []:
        have = held.get(flow["alias"])
        if have is None:
            check(f"flow {flow['alias']}", "present", None)
            continue
        check(f"flow {flow['alias']} steps", _steps(flow), _steps(have))
        if flow.get("description"):
            check(f"flow {flow['alias']}.description", flow["description"],
                  have.get("description"))
    for config in document.get("authenticatorConfig") or []:
        check(f"authenticator config {config['alias']}", config.get("config") or {},
              (configs.get(config["alias"]) or {}).get("config"))
    if pruned and "authenticationFlows" in document:
        own = {a for a, f in held.items() if f.get("topLevel") and not f.get("builtIn")}
        declared = {f["alias"] for f in document["authenticationFlows"]}
        check("undeclared flows of the realm's own (pruned)", [], sorted(own - declared))


def _identity_providers(document: Json, live: Json, check: Any, pruned: bool) -> None:
    held = _by(live.get("identityProviders"), "alias")
    for provider in document.get("identityProviders") or []:
        alias = provider["alias"]
        have = held.get(alias)
        if have is None:
            check(f"identity provider {alias}", "present", None)
            continue
        for key, want in provider.items():
            if key == "config":
                for name, value in want.items():
                    if name not in SECRET_CONFIG:
                        check(f"identity provider {alias}.config.{name}", value,
                              (have.get("config") or {}).get(name))
            elif key not in ("alias", "internalId"):
                check(f"identity provider {alias}.{key}", want, have.get(key, (
                    False if isinstance(want, bool) else None)))
    if pruned and "identityProviders" in document:
        check("identity providers (pruned)",
              sorted(p["alias"] for p in document["identityProviders"]), sorted(held))
    if "identityProviderMappers" in document:
        held_mappers = _by([{**m, "key": f"{m['identityProviderAlias']}/{m['name']}"}
                            for m in live.get("identityProviderMappers") or []], "key")
        declared = {f"{m['identityProviderAlias']}/{m['name']}": m
                    for m in document["identityProviderMappers"]}
        aliases = {p["alias"] for p in document.get("identityProviders") or []}
        check("identity provider mappers of the declared providers", sorted(declared),
              sorted(k for k in held_mappers if k.split("/", 1)[0] in aliases))
        for key, mapper in declared.items():
            have = held_mappers.get(key) or {}
            check(f"identity provider mapper {key}.identityProviderMapper",
                  mapper["identityProviderMapper"], have.get("identityProviderMapper"))
            check(f"identity provider mapper {key}.config",
                  {k: str(v) for k, v in (mapper.get("config") or {}).items()},
                  have.get("config") or {})


def _components(document: Json, live: Json, check: Any, pruned: bool) -> None:
    def walk(declared: Any, held: Any, where: str) -> None:
        for kind, items in (declared or {}).items():
            if kind == USER_PROFILE:
                continue
            have = _by([i for i in (held or {}).get(kind) or [] if i.get("name")], "name")
            for item in items:
                got = have.get(item["name"])
                name = f"{where}{kind.rsplit('.', 1)[-1]}/{item['name']}"
                if got is None:
                    check(f"component {name}", "present", None)
                    continue
                check(f"component {name}.providerId", item["providerId"], got.get("providerId"))
                for key, value in (item.get("config") or {}).items():
                    if key not in SECRET_CONFIG:
                        check(f"component {name}.config.{key}", value,
                              (got.get("config") or {}).get(key))
                walk(item.get("subComponents"), got.get("subComponents"), f"{name}/")
            if pruned:
                declared_names = {i["name"] for i in items}
                check(f"undeclared components {where}{kind} (pruned)", [],
                      sorted(set(have) - declared_names - BUILT_IN_COMPONENTS))

    walk(document.get("components"), live.get("components"), "")


def _client_policies(document: Json, live: Json, check: Any, pruned: bool) -> None:
    for field, which in (("clientProfiles", "profiles"), ("clientPolicies", "policies")):
        if field not in document and not pruned:
            continue
        declared = (document.get(field) or {}).get(which) or []
        held = _by((live.get(field) or {}).get(which), "name")
        check(f"{field} (whole)", sorted(d["name"] for d in declared), sorted(held))
        for entry in declared:
            have = held.get(entry["name"]) or {}
            for key, want in entry.items():
                if key != "name":
                    check(f"{field} {entry['name']}.{key}", want, have.get(key))


def _localization(document: Json, live: Json, check: Any, pruned: bool) -> None:
    texts = live.get("localizationTexts") or {}
    for locale, want in (document.get("localizationTexts") or {}).items():
        check(f"localizationTexts.{locale}", want, texts.get(locale) or {})
    if pruned and "localizationTexts" in document:
        check("undeclared locales (pruned)", [],
              sorted(k for k, v in texts.items() if v and k not in document["localizationTexts"]))


def _organizations(api: RealmAdmin, document: Json, check: Any, pruned: bool) -> None:
    held = _by(api.organizations(), "name")
    for organization in document["organizations"]:
        name = organization["name"]
        have = held.get(name)
        if have is None:
            check(f"organization {name}", "present", None)
            continue
        for key in ("alias", "enabled", "description", "redirectUrl"):
            if key in organization:
                check(f"organization {name}.{key}", organization[key], have.get(key))
        if "attributes" in organization:
            check(f"organization {name}.attributes", organization["attributes"],
                  have.get("attributes") or {})
        if "domains" in organization:
            check(f"organization {name}.domains",
                  sorted((d["name"], bool(d.get("verified"))) for d in organization["domains"]),
                  sorted((d["name"], bool(d.get("verified"))) for d in have.get("domains") or []))
        if "identityProviders" in organization:
            linked = api.organization_identity_providers(have["id"])
            check(f"organization {name}.identityProviders",
                  [p["alias"] if isinstance(p, dict) else p
                   for p in organization["identityProviders"]], [p["alias"] for p in linked])
    if pruned:
        check("organizations (pruned)", sorted(o["name"] for o in document["organizations"]),
              sorted(held))


def _users(api: RealmAdmin, document: Json, live: Json, check: Any) -> None:
    default_role = live["defaultRole"]["name"]
    for user in document.get("users") or []:
        if user.get("serviceAccountClientId"):
            continue
        username = user["username"]
        found = [u for u in api.users_by_username(username) if u["username"] == username]
        if not found:
            check(f"user {username}", "present", None)
            continue
        have = found[0]
        for key in ("email", "firstName", "lastName", "enabled", "emailVerified",
                    "requiredActions"):
            if key in user:
                check(f"user {username}.{key}", user[key], have.get(key))
        for name, value in (user.get("attributes") or {}).items():
            check(f"user {username}.attributes.{name}", value,
                  (have.get("attributes") or {}).get(name))
        if "groups" in user:
            check(f"user {username}.groups", user["groups"],
                  [g["path"] for g in api.user_groups(have["id"])])
        mappings = api.role_mappings(have["id"])
        if "realmRoles" in user:
            check(f"user {username}.realmRoles",
                  [r for r in user["realmRoles"] if r != default_role],
                  [r["name"] for r in mappings.get("realmMappings") or []
                   if r["name"] != default_role])
        if "clientRoles" in user:
            check(f"user {username}.clientRoles",
                  {c: sorted(r) for c, r in user["clientRoles"].items() if r},
                  {m["client"]: sorted(r["name"] for r in m.get("mappings") or [])
                   for m in (mappings.get("clientMappings") or {}).values()})


def _profile_document(document: Json) -> Json | None:
    for provider in (document.get("components") or {}).get(USER_PROFILE) or []:
        raw = (provider.get("config") or {}).get("kc.user.profile.config") or []
        if raw:
            profile: Json = json.loads(raw[0])
            return profile
    return None


def _user_profile(api: RealmAdmin, document: Json, check: Any) -> None:
    declared = _profile_document(document) or {}
    live = api.user_profile()
    if "unmanagedAttributePolicy" in declared:
        check("userProfile.unmanagedAttributePolicy", declared["unmanagedAttributePolicy"],
              live.get("unmanagedAttributePolicy"))
    held = _by(live.get("attributes"), "name")
    for attribute in declared.get("attributes") or []:
        have = held.get(attribute["name"])
        if have is None:
            check(f"user profile attribute {attribute['name']}", "present", None)
            continue
        for key, want in attribute.items():
            if key != "name":
                check(f"user profile attribute {attribute['name']}.{key}", want,
                      have.get(key))
