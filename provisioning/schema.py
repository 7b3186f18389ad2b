"""The realm file's schema. Field names are Keycloak's own (RealmRepresentation,
ClientRepresentation, ...) so the Admin REST docs explain them; idpack only adds
structure where Keycloak's is awkward (mappers under their provider, SMTP and events
as sections, service-account roles on the client).

A field left out of the file is not managed: idpack never changes it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from provisioning.references import Secret, UnresolvedReference, resolve_text

# Password policy ids Keycloak 26 knows (PasswordPolicyProvider ids).
PASSWORD_POLICIES = {
    "length", "maxLength", "digits", "lowerCase", "upperCase", "specialChars", "notUsername",
    "notEmail", "notContainsUsername", "passwordHistory", "passwordBlacklist", "regexPattern",
    "forceExpiredPasswordChange", "passwordAge", "hashAlgorithm", "hashIterations",
    "maxAuthAge", "recoveryCodesWarningThreshold",
}
BUILT_IN_REALM_ROLES = {"offline_access", "uma_authorization"}
PrunableKind = Literal["roles", "clients", "clientProtocolMappers", "clientScopes",
                       "identityProviders", "identityProviderMappers", "userProfileAttributes",
                       "authenticationFlows"]


def _context(info: ValidationInfo) -> tuple[dict[str, str], Path]:
    context = info.context or {}
    return context.get("env", {}), context.get("base_dir", Path())


def _interpolate(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, str) or "${" not in value:
        return value
    env, base_dir = _context(info)
    try:
        return resolve_text(value, env, base_dir)
    except UnresolvedReference as exc:
        raise ValueError(str(exc)) from None


def _stringify(value: Any, info: ValidationInfo) -> Any:
    """Keycloak's config maps hold strings; YAML's true and 30 are welcome too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _interpolate(value, info)


def _secret(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("a secret must be a reference such as ${env:NAME}")
    env, base_dir = _context(info)
    return Secret.parse(value, env, base_dir)


Text = Annotated[str, BeforeValidator(_interpolate)]
Int = Annotated[int, BeforeValidator(_interpolate)]
Bool = Annotated[bool, BeforeValidator(_interpolate)]
ConfigValue = Annotated[str, BeforeValidator(_stringify)]
SecretRef = Annotated[Secret, BeforeValidator(_secret)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              arbitrary_types_allowed=True)

    def declared(self) -> dict[str, Any]:
        """The fields the file sets, by their Keycloak names."""
        return {
            (field.alias or name): getattr(self, name)
            for name, field in type(self).model_fields.items() if name in self.model_fields_set
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
    actionTokenGeneratedByUserLifespan: Int | None = Field(default=None, ge=1)
    actionTokenGeneratedByAdminLifespan: Int | None = Field(default=None, ge=1)
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


class Smtp(Strict):
    host: Text
    port: Int = Field(default=25, ge=1, le=65535)
    from_: Text = Field(alias="from")
    fromDisplayName: Text | None = None
    replyTo: Text | None = None
    envelopeFrom: Text | None = None
    ssl: Bool = False
    starttls: Bool = False
    auth: Bool = False
    user: Text | None = None
    password: SecretRef | None = None
    timeout: Int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _auth_needs_credentials(self) -> Smtp:
        if self.auth and (not self.user or self.password is None):
            raise ValueError("auth: true needs user and password")
        return self


EventType = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]


class Events(Strict):
    enabled: Bool = True
    expiration: Int | None = Field(default=None, ge=1, description="seconds")
    types: list[EventType] = Field(default_factory=list)
    listeners: list[str] = Field(default_factory=lambda: ["jboss-logging"])
    adminEventsEnabled: Bool = False
    adminEventsDetailsEnabled: Bool = False


class RequiredAction(Strict):
    enabled: Bool = True
    defaultAction: Bool = False
    priority: Int | None = None
    config: dict[str, ConfigValue] | None = None


Requirement = Literal["REQUIRED", "ALTERNATIVE", "DISABLED", "CONDITIONAL"]


class FlowExecution(Strict):
    """One step of a flow: an authenticator, or a sub-flow (`flowAlias`) declared here
    with its own steps. A form sub-flow names its form as `authenticator`, as
    Keycloak's export does (e.g. registration-page-form)."""

    authenticator: str | None = None
    flowAlias: Text | None = None
    requirement: Requirement
    # The authenticator's configuration, under an alias of its own (Keycloak's
    # AuthenticatorConfigRepresentation).
    authenticatorConfig: Text | None = None
    config: dict[str, ConfigValue] | None = None
    # Sub-flows only.
    description: Text | None = None
    providerId: Literal["basic-flow", "form-flow"] = "basic-flow"
    executions: list[FlowExecution] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> FlowExecution:
        if self.flowAlias is None:
            if self.authenticator is None:
                raise ValueError("give authenticator (a step) or flowAlias (a sub-flow)")
            if self.executions or self.description is not None:
                raise ValueError("executions and description are for sub-flows (flowAlias)")
        if (self.config is None) != (self.authenticatorConfig is None):
            raise ValueError("config and authenticatorConfig (its alias) go together")
        return self


class AuthenticationFlow(Strict):
    """A top-level flow, declared whole: its steps in order, with their requirements.
    Bind it through settings (browserFlow, directGrantFlow, ...), a client's
    authenticationFlowBindingOverrides, or an identity provider."""

    description: Text | None = None
    providerId: Literal["basic-flow", "client-flow"] = "basic-flow"
    executions: list[FlowExecution] = Field(default_factory=list)


class Role(Strict):
    description: Text | None = None
    attributes: dict[str, list[str]] | None = None


class ServiceAccountRoles(Strict):
    realm: list[str] = Field(default_factory=list)
    clients: dict[str, list[str]] = Field(default_factory=dict)


class ProtocolMapper(Strict):
    type: str = Field(description="protocolMapper id, e.g. oidc-audience-mapper")
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    config: dict[str, ConfigValue] = Field(default_factory=dict)


class Client(Strict):
    name: Text | None = None
    description: Text | None = None
    enabled: Bool = True
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    publicClient: Bool = False
    bearerOnly: Bool | None = None
    standardFlowEnabled: Bool = True
    implicitFlowEnabled: Bool = False
    directAccessGrantsEnabled: Bool = False
    serviceAccountsEnabled: Bool = False
    frontchannelLogout: Bool | None = None
    consentRequired: Bool | None = None
    fullScopeAllowed: Bool | None = None
    rootUrl: Text | None = None
    baseUrl: Text | None = None
    adminUrl: Text | None = None
    redirectUris: list[Text] | None = None
    webOrigins: list[Text] | None = None
    attributes: dict[str, ConfigValue] | None = None
    secret: SecretRef | None = None
    serviceAccountRoles: ServiceAccountRoles | None = None
    protocolMappers: dict[str, ProtocolMapper] | None = None
    # Client scopes this client gets by default, besides those it has (never removed).
    defaultClientScopes: list[str] | None = None
    # Flows this client uses instead of the realm's, by alias (applied once they exist).
    authenticationFlowBindingOverrides: dict[Literal["browser", "direct_grant"], Text] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Client:
        if self.publicClient and self.secret is not None:
            raise ValueError("a public client has no secret")
        if self.publicClient and self.serviceAccountsEnabled:
            raise ValueError("a public client cannot have a service account")
        if self.serviceAccountRoles is not None and not self.serviceAccountsEnabled:
            raise ValueError("serviceAccountRoles needs serviceAccountsEnabled: true")
        return self


class IdentityProviderMapper(Strict):
    type: str = Field(description="identityProviderMapper id, e.g. oidc-user-attribute-idp-mapper")
    config: dict[str, ConfigValue] = Field(default_factory=dict)


class SamlMetadata(Strict):
    file: Path | None = None
    url: Text | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SamlMetadata:
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of file and url")
        return self


class IdentityProvider(Strict):
    providerId: str
    displayName: Text | None = None
    enabled: Bool = True
    trustEmail: Bool = False
    storeToken: Bool = False
    linkOnly: Bool = False
    hideOnLogin: Bool | None = None
    firstBrokerLoginFlowAlias: str = "first broker login"
    postBrokerLoginFlowAlias: str | None = None
    config: dict[str, ConfigValue] = Field(default_factory=dict)
    clientSecret: SecretRef | None = None
    metadata: SamlMetadata | None = None
    mappers: dict[str, IdentityProviderMapper] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> IdentityProvider:
        if "clientSecret" in self.config:
            raise ValueError("put the secret in clientSecret (a reference), not in config")
        if self.metadata is not None and self.providerId != "saml":
            raise ValueError("metadata is for SAML providers (providerId: saml)")
        return self


class AttributePermissions(Strict):
    view: list[Literal["admin", "user"]] = Field(default_factory=list)
    edit: list[Literal["admin", "user"]] = Field(default_factory=list)


class AttributeRequired(Strict):
    roles: list[Literal["admin", "user"]] = Field(default_factory=list)
    scopes: list[str] | None = None


class AttributeSelector(Strict):
    """The attribute takes part in login-flow forms (registration, first broker login,
    update profile) only when the client asks for one of these scopes; the Admin API
    always sees it."""

    scopes: list[str] = Field(min_length=1)


class ProfileAttribute(Strict):
    displayName: Text | None = None
    group: str | None = None
    multivalued: Bool = False
    permissions: AttributePermissions = Field(default_factory=AttributePermissions)
    required: AttributeRequired | None = None
    validations: dict[str, dict[str, Any]] = Field(default_factory=dict)
    annotations: dict[str, Any] = Field(default_factory=dict)
    selector: AttributeSelector | None = None


class ClientScope(Strict):
    description: Text | None = None
    protocol: Literal["openid-connect", "saml"] = "openid-connect"
    attributes: dict[str, ConfigValue] | None = None


class UserProfile(Strict):
    unmanagedAttributePolicy: Literal["ENABLED", "ADMIN_VIEW", "ADMIN_EDIT"] | None = None
    attributes: dict[str, ProfileAttribute] = Field(default_factory=dict)


class RealmConfig(Strict):
    realm: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    settings: RealmSettings = Field(default_factory=RealmSettings)
    smtp: Smtp | None = None
    events: Events | None = None
    requiredActions: dict[str, RequiredAction] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    defaultRoles: list[str] | None = None
    clientScopes: dict[str, ClientScope] = Field(default_factory=dict)
    authenticationFlows: dict[str, AuthenticationFlow] = Field(default_factory=dict)
    clients: dict[str, Client] = Field(default_factory=dict)
    identityProviders: dict[str, IdentityProvider] = Field(default_factory=dict)
    userProfile: UserProfile | None = None
    prune: list[PrunableKind] = Field(default_factory=list)
