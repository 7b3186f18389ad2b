"""The resource kinds, in the order apply runs them: the realm before what lives in
it, roles before what grants them, identity providers before their mappers, flows
before what binds them. Adding a kind is adding its module and one line here: the
realm file's sections (provisioning/schema.py), what `prune:` accepts and `--prune`
turns on, what realm JSON is read for, what plan reads and export writes all follow
from this list. No kind imports it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.kinds.authentication_flows import AuthenticationFlowsKind, FlowBindingsKind
from provisioning.kinds.base import ResourceKind, Section
from provisioning.kinds.client_policies import ClientPoliciesKind, ClientProfilesKind
from provisioning.kinds.client_protocol_mappers import ClientProtocolMappersKind
from provisioning.kinds.client_roles import ClientRolesKind, RoleCompositesKind
from provisioning.kinds.client_scope_mappers import ClientScopeProtocolMappersKind
from provisioning.kinds.client_scopes import ClientDefaultScopesKind, ClientScopesKind
from provisioning.kinds.clients import ClientsKind
from provisioning.kinds.components import ComponentsKind
from provisioning.kinds.default_roles import DefaultRolesKind
from provisioning.kinds.events import EventsKind
from provisioning.kinds.groups import DefaultGroupsKind, GroupsKind
from provisioning.kinds.identity_providers import (
    IdentityProviderMappersKind,
    IdentityProvidersKind,
)
from provisioning.kinds.localization import LocalizationKind
from provisioning.kinds.organizations import OrganizationsKind
from provisioning.kinds.realm_default_scopes import RealmDefaultClientScopesKind
from provisioning.kinds.realm_settings import RealmSettingsKind
from provisioning.kinds.required_actions import RequiredActionsKind
from provisioning.kinds.roles import RolesKind
from provisioning.kinds.scope_mappings import ScopeMappingsKind
from provisioning.kinds.service_accounts import ServiceAccountRolesKind
from provisioning.kinds.smtp import SmtpKind
from provisioning.kinds.user_profile import UserProfileKind
from provisioning.kinds.users import UsersKind

KINDS: tuple[ResourceKind, ...] = (
    RealmSettingsKind(),
    SmtpKind(),
    EventsKind(),
    RequiredActionsKind(),
    AuthenticationFlowsKind(),
    RolesKind(),
    DefaultRolesKind(),
    ClientScopesKind(),
    ClientScopeProtocolMappersKind(),
    UserProfileKind(),
    ComponentsKind(),  # user federation and keys, once the profile has its attributes
    RealmDefaultClientScopesKind(),
    ClientsKind(),
    ClientDefaultScopesKind(),
    ClientProtocolMappersKind(),
    ClientRolesKind(),
    RoleCompositesKind(),  # once every role, realm and client, exists
    ScopeMappingsKind(),
    ServiceAccountRolesKind(),
    GroupsKind(),
    DefaultGroupsKind(),
    UsersKind(),  # after the groups and roles they join
    LocalizationKind(),
    ClientProfilesKind(),
    ClientPoliciesKind(),  # after the profiles they apply
    IdentityProvidersKind(),
    IdentityProviderMappersKind(),
    OrganizationsKind(),  # after the identity providers they link
    FlowBindingsKind(),  # last: binds flows and clients made above, then prunes flows
)

_USER_PROFILE = next(k for k in KINDS if isinstance(k, UserProfileKind))
BY_NAME: dict[str, ResourceKind] = {k.name: k for k in KINDS} | {"user profile": _USER_PROFILE}

# The entries `prune:` accepts and `--prune` turns on, in registry order.
PRUNABLE: tuple[str, ...] = tuple(k.prune_key for k in KINDS if k.prune_key is not None)

# The realm file's sections, each declared by the one kind that manages it.
SECTIONS: tuple[Section[Any], ...] = tuple(s for k in KINDS for s in k.sections)


def _representation() -> dict[str, Any]:
    """The RealmRepresentation fields the kinds read, with their shapes; a field two
    kinds read is declared by one of them and used by the other."""
    fields: dict[str, Any] = {}
    for kind in KINDS:
        for name, shape in kind.representation.items():
            if name in fields:
                raise TypeError(f"RealmRepresentation.{name} is declared by two kinds")
            fields[name] = shape
    return fields


REPRESENTATION: Mapping[str, Any] = _representation()


def prunable_text() -> str:
    """The prunable kinds as help and error messages list them."""
    return ", ".join(PRUNABLE)
