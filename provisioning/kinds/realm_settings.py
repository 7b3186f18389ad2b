"""The realm itself: its settings and attributes. Creates the realm when it is missing."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, Section, pick
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change
from provisioning.schema_types import Bool, ConfigValue, Int, Strict, Text

# Flow bindings name flows this same apply may create: FlowBindingsKind sets them later.
FLOW_BINDINGS = ("browserFlow", "registrationFlow", "directGrantFlow", "resetCredentialsFlow",
                 "clientAuthenticationFlow", "dockerAuthenticationFlow", "firstBrokerLoginFlow")
# Password policy ids Keycloak 26 knows (PasswordPolicyProvider ids).
PASSWORD_POLICIES = {
    "length", "maxLength", "digits", "lowerCase", "upperCase", "specialChars", "notUsername",
    "notEmail", "notContainsUsername", "passwordHistory", "passwordBlacklist", "regexPattern",
    "forceExpiredPasswordChange", "passwordAge", "hashAlgorithm", "hashIterations",
    "maxAuthAge", "recoveryCodesWarningThreshold",
}


class RealmSettings(Strict):
    displayName: Text | None = None
    displayNameHtml: Text | None = None
    enabled: Bool | None = None
    registrationAllowed: Bool | None = None
    registrationEmailAsUsername: Bool | None = None
    loginWithEmailAllowed: Bool | None = None
    duplicateEmailsAllowed: Bool | None = None
    verifyEmail: Bool | None = None
    resetPasswordAllowed: Bool | None = None
    rememberMe: Bool | None = None
    editUsernameAllowed: Bool | None = None
    sslRequired: Literal["all", "external", "none"] | None = None
    bruteForceProtected: Bool | None = None
    permanentLockout: Bool | None = None
    failureFactor: Int | None = Field(default=None, ge=1)
    waitIncrementSeconds: Int | None = Field(default=None, ge=0)
    maxFailureWaitSeconds: Int | None = Field(default=None, ge=0)
    maxDeltaTimeSeconds: Int | None = Field(default=None, ge=0)
    passwordPolicy: Text | None = None
    loginTheme: Text | None = None
    emailTheme: Text | None = None
    accountTheme: Text | None = None
    internationalizationEnabled: Bool | None = None
    supportedLocales: list[str] | None = None
    defaultLocale: str | None = None
    accessTokenLifespan: Int | None = Field(default=None, ge=1)
    ssoSessionIdleTimeout: Int | None = Field(default=None, ge=1)
    ssoSessionMaxLifespan: Int | None = Field(default=None, ge=1)
    revokeRefreshToken: Bool | None = None  # refresh tokens rotate: a used one is refused
    refreshTokenMaxReuse: Int | None = Field(default=None, ge=0)
    actionTokenGeneratedByUserLifespan: Int | None = Field(default=None, ge=1)
    actionTokenGeneratedByAdminLifespan: Int | None = Field(default=None, ge=1)
    organizationsEnabled: Bool | None = None
    attributes: dict[str, ConfigValue] | None = None
    # The realm's flow bindings, by flow alias; applied once the flows exist.
    browserFlow: Text | None = None
    registrationFlow: Text | None = None
    directGrantFlow: Text | None = None
    resetCredentialsFlow: Text | None = None
    clientAuthenticationFlow: Text | None = None
    dockerAuthenticationFlow: Text | None = None
    firstBrokerLoginFlow: Text | None = None

    @field_validator("passwordPolicy")
    @classmethod
    def _known_policies(cls, policy: str | None) -> str | None:
        if policy is None:
            return None
        for part in filter(None, (p.strip() for p in policy.split(" and "))):
            name = re.sub(r"\(.*\)$", "", part)
            if name not in PASSWORD_POLICIES:
                raise ValueError(f"unknown password policy {name!r}; Keycloak knows "
                                 + ", ".join(sorted(PASSWORD_POLICIES)))
        return policy


SETTINGS = Section[RealmSettings]("settings", default_factory=RealmSettings)


class RealmSettingsKind(Kind):
    """The realm's plain settings are fields: each declared one is exact. Its
    `attributes` map holds Keycloak's own settings too (CIBA, device flow and PAR
    lifespans) and idpack's fingerprints, so the keys the file gives are exact and the
    others are Keycloak's."""

    name = "realm"
    sections = (SETTINGS,)
    representation: ClassVar = {"attributes": dict[str, Any] | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        declared = {k: v for k, v in SETTINGS.of(ctx.config).declared().items()
                    if k not in FLOW_BINDINGS}
        if not ctx.live.exists:
            representation = {"enabled": True, **declared}
            return [Change(self.name, ctx.config.realm, "create",
                           tuple(field_changes(representation, {})), payload=representation)]
        changes = field_changes(declared, ctx.live.export)
        if not changes:
            return []
        return [Change(self.name, ctx.config.realm, "update", tuple(changes),
                       payload=_partial(declared, changes))]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "create":
            api.create(change.payload)
        else:
            api.update(change.payload)

    def export(self, live: LiveRealm) -> Json:
        """The realm's name and settings; its flow bindings are the bindings' kind's."""
        settings = pick(live.export, [f for f in RealmSettings.model_fields
                                      if f != "attributes" and f not in FLOW_BINDINGS])
        attributes = {k: v for k, v in live.attributes.items() if not k.startswith("idpack.")}
        if attributes:
            settings["attributes"] = attributes
        return {"realm": live.name, "settings": settings}


def _partial(declared: dict[str, Any], changes: list[Any]) -> dict[str, Any]:
    """Only what changed: Keycloak updates the fields a partial representation carries
    (and RealmAdmin.update merges `attributes` over the current ones)."""
    top = {c.path.split(".", 1)[0] for c in changes}
    partial = {k: v for k, v in declared.items() if k in top and k != "attributes"}
    attribute_keys = {c.path.split(".", 1)[1] for c in changes if c.path.startswith("attributes.")}
    if attribute_keys:
        partial["attributes"] = {k: declared["attributes"][k] for k in attribute_keys}
    return partial
