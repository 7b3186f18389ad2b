"""The Admin REST API of one realm, as realm-as-code and the sidecar use it: one type
whose calls live in one module per area under idpack.keycloak.areas (paths as in
Keycloak's Admin REST API reference), so no other module builds a Keycloak URL."""

from __future__ import annotations

from idpack.keycloak.areas.base import PAGE_SIZE, Json
from idpack.keycloak.areas.clients import ClientsApi
from idpack.keycloak.areas.components import ComponentsApi
from idpack.keycloak.areas.events import EventsApi
from idpack.keycloak.areas.flows import FlowsApi
from idpack.keycloak.areas.groups import GroupsApi
from idpack.keycloak.areas.identity_providers import IdentityProvidersApi
from idpack.keycloak.areas.realm import RealmDocumentApi
from idpack.keycloak.areas.roles import RolesApi
from idpack.keycloak.areas.users import UsersApi

__all__ = ["PAGE_SIZE", "Json", "RealmAdmin"]


class RealmAdmin(RealmDocumentApi, FlowsApi, RolesApi, ClientsApi, ComponentsApi, GroupsApi,
                 UsersApi, EventsApi, IdentityProvidersApi):
    """`KeycloakAdminClient.realm(name)`: every area's calls on one realm."""
