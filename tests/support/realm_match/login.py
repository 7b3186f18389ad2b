"""Read-back rules for how users sign in: authentication flows and authenticator
configs, identity providers and their mappers, organizations."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from tests.support.realm_match.rules import SECRET_CONFIG, Check, Json, by


def steps(flow: Json) -> list[tuple[str, str]]:
    steps = sorted(flow.get("authenticationExecutions") or [],
                   key=lambda e: e.get("priority") or 0)
    return [(str(e.get("flowAlias") if e.get("authenticatorFlow") else e.get("authenticator")),
             str(e.get("requirement"))) for e in steps]


def flows(document: Json, live: Json, check: Check, pruned: bool) -> None:
    held = by(live.get("authenticationFlows"), "alias")
    configs = by(live.get("authenticatorConfig"), "alias")
    for flow in document.get("authenticationFlows") or []:
        have = held.get(flow["alias"])
        if have is None:
            check(f"flow {flow['alias']}", "present", None)
            continue
        check(f"flow {flow['alias']} steps", steps(flow), steps(have))
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


def identity_providers(document: Json, live: Json, check: Check, pruned: bool) -> None:
    held = by(live.get("identityProviders"), "alias")
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
        held_mappers = by([{**m, "key": f"{m['identityProviderAlias']}/{m['name']}"}
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


def organizations(api: RealmAdmin, document: Json, check: Check, pruned: bool) -> None:
    held = by(api.organizations(), "name")
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
