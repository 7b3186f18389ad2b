"""The realm file's schema: its top-level sections, each the model of the kind that
manages it (provisioning/kinds/), built on the value types of schema_types.py. Field
names are Keycloak's own (RealmRepresentation, ClientRepresentation, ...) so the Admin
REST docs explain them; idpack only adds structure where Keycloak's is awkward
(mappers under their provider, SMTP and events as sections, service-account roles on
the client).

A field left out of the file is not managed: idpack never changes it."""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import AfterValidator, Field

from provisioning.kinds import PRUNABLE, prunable_text
from provisioning.kinds.authentication_flows import AuthenticationFlow
from provisioning.kinds.client_policies import ClientPolicy, ClientProfile
from provisioning.kinds.client_scopes import ClientScope
from provisioning.kinds.clients import Client
from provisioning.kinds.components import Component
from provisioning.kinds.events import Events
from provisioning.kinds.groups import Group, check_group_paths
from provisioning.kinds.identity_providers import IdentityProvider
from provisioning.kinds.organizations import Organization
from provisioning.kinds.realm_settings import RealmSettings
from provisioning.kinds.required_actions import RequiredAction
from provisioning.kinds.roles import Role
from provisioning.kinds.scope_mappings import ScopeMappings
from provisioning.kinds.smtp import Smtp
from provisioning.kinds.user_profile import UserProfile
from provisioning.kinds.users import User
from provisioning.schema_types import Strict, Text


def _prunable(key: str) -> str:
    if key not in PRUNABLE:
        close = difflib.get_close_matches(key, PRUNABLE, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{key!r} is not a prunable kind{hint}; "
                         f"the prunable kinds are {prunable_text()}")
    return key


PruneKey = Annotated[str, AfterValidator(_prunable)]


class RealmConfig(Strict):
    realm: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    settings: RealmSettings = Field(default_factory=RealmSettings)
    smtp: Smtp | None = None
    events: Events | None = None
    requiredActions: dict[str, RequiredAction] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    defaultRoles: list[str] | None = None
    clientScopes: dict[str, ClientScope] = Field(default_factory=dict)
    defaultDefaultClientScopes: list[str] | None = None
    defaultOptionalClientScopes: list[str] | None = None
    authenticationFlows: dict[str, AuthenticationFlow] = Field(default_factory=dict)
    clients: dict[str, Client] = Field(default_factory=dict)
    identityProviders: dict[str, IdentityProvider] = Field(default_factory=dict)
    # clientId -> role name -> role, as RealmRepresentation's roles.client.
    clientRoles: dict[str, dict[str, Role]] = Field(default_factory=dict)
    # By path: /staff, /staff/admins (each parent declared too).
    groups: Annotated[dict[str, Group], AfterValidator(check_group_paths)] = Field(
        default_factory=dict)
    defaultGroups: list[str] | None = None
    # locale -> message key -> text: the realm's overrides of its themes' messages.
    localizationTexts: dict[str, dict[str, Text]] | None = None
    organizations: dict[str, Organization] = Field(default_factory=dict)
    # The roles a client's or client scope's tokens may carry (full scope off).
    scopeMappings: ScopeMappings = Field(default_factory=ScopeMappings)
    # The few accounts a realm needs at creation; never pruned, only removed by name.
    users: dict[str, User] = Field(default_factory=dict)
    removedUsers: list[str] = Field(default_factory=list)
    clientProfiles: dict[str, ClientProfile] = Field(default_factory=dict)
    clientPolicies: dict[str, ClientPolicy] = Field(default_factory=dict)
    userProfile: UserProfile | None = None
    # provider type -> name -> component (LDAP federation and its mappers, key providers)
    components: dict[str, dict[str, Component]] = Field(default_factory=dict)
    # Kinds whose undeclared objects plan deletes (Keycloak's built-in ones never).
    prune: list[PruneKey] = Field(default_factory=list)
