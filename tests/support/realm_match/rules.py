"""The shared vocabulary of the read-back rules: how two values compare (lists of plain
values as sets, maps exactly), lists of objects by their key, Keycloak's built-in
objects, and the check each rule reports a difference through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Json = dict[str, Any]
Check = Callable[[str, Any, Any], None]  # (where, declared, live)
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
# Top-level fields checked by rules of their own, not as plain settings.
COLLECTIONS = {"id", "realm", "roles", "defaultRole", "groups", "defaultGroups", "clients",
               "clientScopes", "scopeMappings", "clientScopeMappings", "authenticationFlows",
               "authenticatorConfig", "identityProviders", "identityProviderMappers",
               "components", "clientPolicies", "clientProfiles", "localizationTexts",
               "organizations", "users", "requiredActions", "smtpServer", "attributes"}


def same(want: Any, have: Any) -> bool:
    """Lists of plain values are sets; maps and lists of maps compare exactly."""
    if isinstance(want, list) and all(isinstance(v, str | int | bool) for v in want):
        return isinstance(have, list | None) and sorted(map(str, want)) == sorted(
            map(str, have or []))
    if isinstance(want, dict):
        return isinstance(have, dict | None) and set(want) == set(have or {}) and all(
            same(v, (have or {})[k]) for k, v in want.items())
    if want == "" and have is None:  # Keycloak leaves an empty text out
        return True
    if isinstance(want, bool | int) and isinstance(have, str):
        return str(want).lower() == have.lower()
    return bool(want == have)


def by(items: Any, key: str) -> dict[str, Json]:
    return {item[key]: item for item in items or []}
