"""Where each object of a realm file converted from realm JSON sits in the JSON, so that
an error found in the converted file names the JSON's own place of it: the realm file's
`groups./staff/admins.attributes` is the JSON's `groups[2].subGroups[0].attributes`.

The map covers each object (a client, a role, a group, a flow's step, ...) and the
fields whose names differ; below an object the realm file uses Keycloak's own field
names, so the rest of a path is the same in both. A section this map does not know
(a kind added later) is named by the realm file's path, in the JSON file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provisioning.source import FieldPath, Location

Json = dict[str, Any]
Place = tuple[Any, ...]  # a path of the realm file or of the JSON
USER_PROFILE_PROVIDER = "org.keycloak.userprofile.UserProfileProvider"
# The realm file's sections whose fields are top-level fields of the JSON.
RENAMED: dict[Place, Place] = {("events", "enabled"): ("eventsEnabled",),
           ("events", "expiration"): ("eventsExpiration",),
           ("events", "types"): ("enabledEventTypes",),
           ("events", "listeners"): ("eventsListeners",),
           ("events", "adminEventsEnabled"): ("adminEventsEnabled",),
           ("events", "adminEventsDetailsEnabled"): ("adminEventsDetailsEnabled",),
           ("settings",): (), ("smtp",): ("smtpServer",), ("events",): ()}


def json_locations(realm: Json, file: Path) -> dict[FieldPath, Location]:
    places: dict[Place, Place] = {(): (), **RENAMED}
    for section, key, listed in (("requiredActions", "alias", ("requiredActions",)),
                                 ("roles", "name", ("roles", "realm")),
                                 ("clientScopes", "name", ("clientScopes",)),
                                 ("organizations", "name", ("organizations",)),
                                 ("clientProfiles", "name", ("clientProfiles", "profiles")),
                                 ("clientPolicies", "name", ("clientPolicies", "policies")),
                                 ("users", "username", ("users",))):
        places |= _named(realm, listed, key, (section,))
    default = (realm.get("defaultRole") or {}).get("name") or \
        f"default-roles-{str(realm.get('realm')).lower()}"
    if ("roles", default) in places:
        places[("defaultRoles",)] = (*places[("roles", default)], "composites", "realm")
    for client_id in ((realm.get("roles") or {}).get("client") or {}):
        places |= _named(realm, ("roles", "client", client_id), "name",
                         ("clientRoles", client_id))
    places |= _clients(realm)
    places |= _identity_providers(realm)
    places |= _flows(realm)
    places |= {("groups", path): at for path, at in _groups(realm.get("groups") or [])}
    for kind, items in (realm.get("components") or {}).items():
        places |= _components(items, ("components", kind), ("components", kind))
    for index, provider in enumerate(
            (realm.get("components") or {}).get(USER_PROFILE_PROVIDER) or []):
        if (provider.get("config") or {}).get("kc.user.profile.config"):
            places[("userProfile",)] = ("components", USER_PROFILE_PROVIDER, index, "config",
                                        "kc.user.profile.config", 0)
    return {path: Location(file, None, at) for path, at in places.items()}


def _named(realm: Json, listed: Place, key: str, section: Place) -> dict[Place, Place]:
    """The objects of the JSON list at `listed`, by their `key`."""
    items: Any = realm
    for part in listed:
        items = (items or {}).get(part) if isinstance(items, dict) else None
    return {(*section, item.get(key)): (*listed, index)
            for index, item in enumerate(items or []) if isinstance(item, dict)}


def _clients(realm: Json) -> dict[Place, Place]:
    places: dict[Place, Place] = {}
    accounts = {u.get("serviceAccountClientId"): index
                for index, u in enumerate(realm.get("users") or [])}
    for index, client in enumerate(realm.get("clients") or []):
        client_id = client.get("clientId")
        places[("clients", client_id)] = ("clients", index)
        for number, mapper in enumerate(client.get("protocolMappers") or []):
            at = ("clients", index, "protocolMappers", number)
            places[("clients", client_id, "protocolMappers", mapper.get("name"))] = at
            places[("clients", client_id, "protocolMappers", mapper.get("name"), "type")] = (
                *at, "protocolMapper")
        if client_id in accounts:
            places[("clients", client_id, "serviceAccountRoles")] = (
                "users", accounts[client_id])
    return places


def _identity_providers(realm: Json) -> dict[Place, Place]:
    places: dict[Place, Place] = {}
    for index, provider in enumerate(realm.get("identityProviders") or []):
        alias = provider.get("alias")
        places[("identityProviders", alias)] = ("identityProviders", index)
        places[("identityProviders", alias, "clientSecret")] = (
            "identityProviders", index, "config", "clientSecret")
    for index, mapper in enumerate(realm.get("identityProviderMappers") or []):
        at = ("identityProviderMappers", index)
        named = ("identityProviders", mapper.get("identityProviderAlias"), "mappers",
                 mapper.get("name"))
        places[named] = at
        places[(*named, "type")] = (*at, "identityProviderMapper")
    return places


def _flows(realm: Json) -> dict[Place, Place]:
    """A flow's steps in the order the realm file lists them (by priority), and a
    sub-flow's steps under the step that holds it."""
    flows = realm.get("authenticationFlows") or []
    index_of = {flow.get("alias"): index for index, flow in enumerate(flows)}
    places: dict[Place, Place] = {}

    def steps(alias: Any, under: Place, within: Place) -> None:
        if alias not in index_of or alias in within:
            return
        at = ("authenticationFlows", index_of[alias])
        executions = flows[index_of[alias]].get("authenticationExecutions") or []
        in_order = sorted(range(len(executions)),
                          key=lambda i: executions[i].get("priority") or 0)
        for shown, original in enumerate(in_order):
            path = (*under, "executions", shown)
            places[path] = (*at, "authenticationExecutions", original)
            if executions[original].get("flowAlias"):
                steps(executions[original]["flowAlias"], path, (*within, alias))

    for alias in index_of:
        places[("authenticationFlows", alias)] = ("authenticationFlows", index_of[alias])
        steps(alias, ("authenticationFlows", alias), ())
    return places


def _groups(groups: list[Json], parent: str = "",
            at: Place = ("groups",)) -> Iterator[tuple[str, Place]]:
    for index, group in enumerate(groups):
        path = str(group.get("path") or f"{parent}/{group.get('name')}")
        yield path, (*at, index)
        yield from _groups(group.get("subGroups") or [], path, (*at, index, "subGroups"))


def _components(items: list[Json], section: Place, at: Place) -> dict[Place, Place]:
    places: dict[Place, Place] = {}
    for index, item in enumerate(items or []):
        path = (*section, item.get("name"))
        places[path] = (*at, index)
        for kind, subs in (item.get("subComponents") or {}).items():
            places |= _components(subs, (*path, "subComponents", kind),
                                  (*at, index, "subComponents", kind))
    return places
