"""The one model every kind follows (README, "Declared means exact; left out means left
alone"), kind by kind as the README's table states it: a declared map or list is the
whole one, so what the file drops shows as removed; the maps of Keycloak's own settings
are managed for the keys the file gives; what the file leaves out plans nothing."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.kinds.base import ResourceKind
from provisioning.kinds.client_policies import ClientPoliciesKind
from provisioning.kinds.client_roles import ClientRolesKind
from provisioning.kinds.client_scopes import ClientScopesKind
from provisioning.kinds.clients import ClientsKind
from provisioning.kinds.events import EventsKind
from provisioning.kinds.groups import GroupsKind
from provisioning.kinds.identity_providers import IdentityProvidersKind
from provisioning.kinds.localization import LocalizationKind
from provisioning.kinds.organizations import OrganizationsKind
from provisioning.kinds.realm_settings import RealmSettingsKind
from provisioning.kinds.required_actions import RequiredActionsKind
from provisioning.kinds.roles import RolesKind
from provisioning.kinds.scope_mappings import ScopeMappingsKind
from provisioning.live import Json
from tests.unit.provisioning.realms import declared, live_realm, plan

GOOGLE = {"alias": "google", "providerId": "google", "enabled": True,
          "firstBrokerLoginFlowAlias": "first broker login",
          "config": {"clientId": "g", "issuer": "https://accounts.google.com"}}
POLICY = {"name": "a", "enabled": True, "profiles": [], "conditions": []}


def client(client_id: str, **fields: Any) -> Json:
    return {"id": f"id-{client_id}", "clientId": client_id, "enabled": True,
            "protocol": "openid-connect", "publicClient": True, **fields}


CASES: list[tuple[str, ResourceKind, dict[str, Any], dict[str, Any], list[str]]] = [
    ("a role's attributes are exact", RolesKind(),
     {"roles": {"USER": {"attributes": {"tier": ["gold"]}}}},
     {"roles": {"realm": [{"name": "USER", "attributes": {"tier": ["gold"], "old": ["x"]}}]}},
     ["role USER: attributes.old"]),
    ("a client role's attributes are exact", ClientRolesKind(),
     {"clientRoles": {"api": {"read": {"attributes": {}}}}},
     {"client_roles": {"api": [{"name": "read", "attributes": {"scope": ["all"]}}]}},
     ["client role api/read: attributes.scope"]),
    ("a group's attributes are exact", GroupsKind(),
     {"groups": {"/staff": {"attributes": {"site": ["cph"]}}}},
     {"groups": [{"id": "g1", "name": "staff", "path": "/staff",
                  "attributes": {"site": ["cph"], "floor": ["2"]}}]},
     ["group /staff: attributes.floor"]),
    ("an organization's attributes are exact", OrganizationsKind(),
     {"organizations": {"Uni": {"attributes": {}}}},
     {}, ["organization Uni: "]),  # created (organizations are read only when declared)
    ("a locale's texts are exact", LocalizationKind(),
     {"localizationTexts": {"en": {"title": "Hi"}}},
     {"localizationTexts": {"en": {"title": "Hi", "old": "Bye"}, "da": {"title": "Hej"}}},
     ["localization en: old"]),
    ("the client policies document is whole", ClientPoliciesKind(),
     {"clientPolicies": {"a": {"enabled": True, "profiles": [], "conditions": []}}},
     {"clientPolicies": {"policies": [POLICY, {**POLICY, "name": "b"}]}},
     ["client policy b: name"]),
    ("a client without policies section keeps them", ClientPoliciesKind(),
     {}, {"clientPolicies": {"policies": [POLICY]}}, []),
    ("a declared holder's scope mappings are exact", ScopeMappingsKind(),
     {"scopeMappings": {"clients": {"portal": {}}}},
     {"scopeMappings": [{"client": "portal", "roles": ["USER"]}]},
     ["scope mappings client portal: roles"]),
    ("realm attributes: the given keys", RealmSettingsKind(),
     {"settings": {"attributes": {"frontendUrl": "https://r"}}},
     {"attributes": {"frontendUrl": "https://r", "cibaInterval": "5"}}, []),
    ("client attributes: the given keys", ClientsKind(),
     {"clients": {"portal": {"publicClient": True, "attributes": {"pkce": "S256"}}}},
     {"clients": [client("portal", attributes={"pkce": "S256", "realm_client": "false"})]},
     []),
    ("client scope attributes: the given keys", ClientScopesKind(),
     {"clientScopes": {"extra": {"attributes": {"include.in.token.scope": "false"}}}},
     {"clientScopes": [{"id": "s", "name": "extra", "protocol": "openid-connect",
                        "attributes": {"include.in.token.scope": "false", "gui.order": "1"}}]},
     []),
    ("identity provider config: the given keys", IdentityProvidersKind(),
     {"identityProviders": {"google": {"providerId": "google", "config": {"clientId": "g"}}}},
     {"identityProviders": [GOOGLE]}, []),
    ("events: only the declared fields", EventsKind(),
     {"events": {"types": ["LOGIN"]}},
     {"eventsEnabled": False, "enabledEventTypes": ["LOGIN"], "eventsListeners": []}, []),
    ("a required action: only the declared fields", RequiredActionsKind(),
     {"requiredActions": {"VERIFY_EMAIL": {"priority": 50}}},
     {"requiredActions": [{"alias": "VERIFY_EMAIL", "enabled": False, "defaultAction": False,
                           "priority": 50, "config": {"cooldown": "30"}}]}, []),
]


@pytest.mark.parametrize(("kind", "sections", "export", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_declared_means_exact_left_out_means_left_alone(
        kind: ResourceKind, sections: dict[str, Any], export: dict[str, Any],
        expected: list[str]) -> None:
    client_roles = export.pop("client_roles", {})
    live = live_realm(clients=export.pop("clients", None), **export)
    live.client_roles = client_roles

    changes = plan(kind, declared(**sections), live)

    removed = [f"{c.title}: {f.path}" for c in changes for f in c.fields
               if f.after in (None, {}, []) and not f.secret]
    created = [f"{c.title}: " for c in changes if c.action == "create"]
    assert removed + created == expected
