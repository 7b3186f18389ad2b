"""Identity providers (Google, GitHub, Microsoft, OIDC, SAML). A provider's `config`
holds Keycloak's own settings of it too (a Google provider's issuer), so the keys the
file gives are exact and the others are Keycloak's; the client secret by fingerprint;
SAML metadata is parsed by Keycloak itself at plan time and declared config wins over
it. A provider's declared `mappers` map is the whole map, each mapper's config exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Required

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import (
    FINGERPRINT_PREFIX,
    Kind,
    PlanContext,
    Section,
    pick,
    secret_reference,
    unique,
)
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.references import UnresolvedReference, resolve_text, unresolved
from provisioning.schema_types import (
    Bool,
    ConfigValue,
    SecretRef,
    Strict,
    Text,
    context_of,
    json_shape,
)

SECRET_FINGERPRINT = FINGERPRINT_PREFIX + "clientSecret"
# Keycloak leaves these out of a provider made without them; they mean false.
LIVE_DEFAULTS = {"trustEmail": False, "storeToken": False, "linkOnly": False,
                 "hideOnLogin": False}
NOT_SENT = {"config", "clientSecret", "metadata", "mappers"}
# `enabled: if-configured`: on when its credentials are set, else declared but off.
IF_CONFIGURED = "if-configured"


class IdentityProviderMapper(Strict):
    type: str = Field(description="identityProviderMapper id, e.g. oidc-user-attribute-idp-mapper")
    config: dict[str, ConfigValue] = Field(default_factory=dict)


class SamlMetadata(Strict):
    file: Path | None = None
    url: Text | None = None
    signedBy: list[Text] = Field(
        default_factory=list,
        description="Who must have signed it: fingerprints (sha256:..., sha1:...) of the "
                    "certificate its signature carries, or PEM files; without, it is "
                    "believed as it is")
    entityId: Text | None = Field(
        None, description="The entity to take from an aggregate of several")

    @model_validator(mode="after")
    def _one_source(self) -> SamlMetadata:
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of file and url")
        return self


class IdentityProvider(Strict):
    providerId: str
    displayName: Text | None = None
    enabled: Bool = Field(True, description=f"true, false, or {IF_CONFIGURED}: on when "
                          "every reference in config and clientSecret resolves")
    trustEmail: Bool = False
    storeToken: Bool = False
    linkOnly: Bool = False
    hideOnLogin: Bool | None = None
    firstBrokerLoginFlowAlias: str = "first broker login"
    postBrokerLoginFlowAlias: str | None = None
    config: dict[str, ConfigValue] = Field(default_factory=dict)
    clientSecret: SecretRef | None = None
    metadata: SamlMetadata | None = None
    # Managed by the mappers' kind below.
    mappers: dict[str, IdentityProviderMapper] = Field(default_factory=dict)
    # What `enabled: if-configured` decided, and the references nobody set.
    _if_configured: bool = PrivateAttr(default=False)
    _unset: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _switched_by_credentials(cls, data: Any, handler: Callable[[Any], IdentityProvider],
                                 info: ValidationInfo) -> IdentityProvider:
        """`enabled: if-configured` turns the provider on when every reference in its
        config and clientSecret resolves, and declares it off otherwise, so that one
        file serves installations with and without the provider's OAuth app. A
        provider that is off (either way) may name credentials nobody set: those config
        keys are then left as Keycloak has them (a secret is left unset)."""
        if not isinstance(data, dict):
            return handler(data)
        env, base_dir = context_of(info)
        config: dict[str, Any] = data["config"] if isinstance(data.get("config"), dict) else {}
        texts = [v for v in (*config.values(), data.get("clientSecret"))
                 if isinstance(v, str)]
        missing = list(dict.fromkeys(name for text in texts
                                     for name in unresolved(text, env, base_dir)))
        if_configured = data.get("enabled") == IF_CONFIGURED
        if if_configured:
            data = {**data, "enabled": not missing}
        if missing and _is_false(data.get("enabled", True), env, base_dir):
            data = {**data, "config": {key: value for key, value in config.items()
                                       if not (isinstance(value, str)
                                               and unresolved(value, env, base_dir))}}
        provider = handler(data)
        provider._if_configured = if_configured
        provider._unset = tuple(missing)
        return provider

    @property
    def waits_for_credentials(self) -> bool:
        """Off, and naming credentials nobody set: not created in Keycloak until they
        are (Keycloak refuses a provider without its endpoints, even a disabled one);
        one that exists is switched off and otherwise left as it is."""
        return not self.enabled and bool(self._unset)

    def switch_note(self, alias: str) -> str | None:
        """One line on what `enabled: if-configured` decided, for the plan's log."""
        if not self._if_configured:
            return None
        if self._unset:
            return (f"identity provider {alias}: declared but off, its credentials are not "
                    f"set ({', '.join(self._unset)})")
        return f"identity provider {alias}: on (its credentials are set)"

    @model_validator(mode="after")
    def _consistent(self) -> IdentityProvider:
        if "clientSecret" in self.config:
            raise ValueError("put the secret in clientSecret (a reference), not in config")
        if self.metadata is not None and self.providerId != "saml":
            raise ValueError("metadata is for SAML providers (providerId: saml)")
        return self


IDENTITY_PROVIDERS = Section[dict[str, IdentityProvider]](
    "identityProviders", default_factory=dict)


@json_shape
class IdentityProviderJson(TypedDict, total=False):
    alias: Required[str]
    providerId: Required[str]
    config: dict[str, Any] | None


@json_shape
class IdentityProviderMapperJson(TypedDict, total=False):
    name: Required[str]
    identityProviderAlias: Required[str]
    identityProviderMapper: Required[str]
    config: dict[str, Any] | None


def _unique_per_provider(mappers: list[Json] | None) -> list[Json] | None:
    seen: dict[tuple[str, str], int] = {}
    for index, mapper in enumerate(mappers or []):
        key = (mapper["identityProviderAlias"], mapper["name"])
        if key in seen:
            raise ValueError(f"[{index}]: mapper {key[1]!r} of {key[0]!r} appears twice "
                             f"(first at [{seen[key]}])")
        seen[key] = index
    return mappers


def _is_false(value: Any, env: dict[str, str], base_dir: Path) -> bool:
    """Whether a declared `enabled` reads as false (a reference resolved first); a value
    that is not a boolean at all is left to the schema's own error."""
    try:
        text = resolve_text(value, env, base_dir) if isinstance(value, str) else value
        return TypeAdapter(bool).validate_python(text) is False
    except (UnresolvedReference, ValidationError):
        return False


def live_mappers(live: LiveRealm) -> dict[str, dict[str, Json]]:
    """Every identity provider's mappers: provider alias -> mapper name -> mapper."""
    by_alias: dict[str, dict[str, Json]] = {}
    for mapper in live.export.get("identityProviderMappers") or []:
        by_alias.setdefault(mapper["identityProviderAlias"], {})[mapper["name"]] = mapper
    return by_alias


def desired_config(alias: str, idp: IdentityProvider, ctx: PlanContext) -> dict[str, str]:
    return {**ctx.imported_metadata.get(alias, {}), **idp.config}


class IdentityProvidersKind(Kind):
    name = "identity provider"
    sections = (IDENTITY_PROVIDERS,)
    representation: ClassVar = {
        "identityProviders": Annotated[list[IdentityProviderJson],
                                       AfterValidator(unique("alias"))] | None,
        "identityProviderMappers": Annotated[list[IdentityProviderMapperJson],
                                             AfterValidator(_unique_per_provider)] | None}
    prune_key = "identityProviders"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        declared_providers = IDENTITY_PROVIDERS.of(ctx.config)
        for alias, idp in declared_providers.items():
            live = ctx.live.identity_providers.get(alias)
            config = desired_config(alias, idp, ctx)
            secret = idp.clientSecret if idp.clientSecret and idp.clientSecret.value else None
            if live is None and idp.waits_for_credentials:
                continue
            if live is None:
                representation = {
                    "alias": alias,
                    **{k: v for k, v in idp.model_dump(by_alias=True).items()
                       if k not in NOT_SENT and v is not None},
                    "config": dict(config),
                }
                fields = field_changes({k: v for k, v in representation.items()
                                        if k != "alias"}, {})
                if secret is not None:
                    fields.append(FieldChange("config.clientSecret", secret=True))
                    representation["config"] |= {"clientSecret": secret.value,
                                                 SECRET_FINGERPRINT: secret.fingerprint()}
                changes.append(Change(self.name, alias, "create", tuple(fields),
                                      payload=representation))
                continue
            declared = {k: v for k, v in idp.declared().items() if k not in NOT_SENT}
            declared["config"] = config
            fields = field_changes(declared, {**LIVE_DEFAULTS, **live})
            representation = {**live, **declared, "config": {**live.get("config", {}), **config}}
            live_fingerprint = (live.get("config") or {}).get(SECRET_FINGERPRINT)
            if secret is not None and not secret.matches(live_fingerprint):
                fields.append(FieldChange("config.clientSecret", secret=True))
                representation["config"] |= {"clientSecret": secret.value,
                                             SECRET_FINGERPRINT: secret.fingerprint()}
            if fields:
                # Keycloak keeps the stored secret when the masked value comes back.
                changes.append(Change(self.name, alias, "update", tuple(fields),
                                      payload=representation))
        if self.prune_key in ctx.prune:
            changes += [Change(self.name, alias, "delete", (FieldChange("alias", alias, None),))
                        for alias in ctx.live.identity_providers
                        if alias not in declared_providers]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "create":
            api.create_identity_provider(change.payload)
        elif change.action == "update":
            api.update_identity_provider(change.name, change.payload)
        else:
            api.delete_identity_provider(change.name)

    def export(self, live: LiveRealm) -> Json:
        fields = [f for f in IdentityProvider.model_fields if f not in NOT_SENT]
        providers = {}
        for alias, provider in live.identity_providers.items():
            entry = pick(provider, fields)
            config = dict(provider.get("config") or {})
            fingerprint = config.pop(SECRET_FINGERPRINT, None)
            config.pop("clientSecret", None)
            entry["config"] = config
            if fingerprint:
                entry["clientSecret"] = secret_reference(alias)
            providers[alias] = entry
        return {"identityProviders": providers}


class IdentityProviderMappersKind(Kind):
    """A provider entry's `mappers` map is the whole map; an entry without it keeps its
    mappers, unless `identityProviderMappers` is pruned."""

    name = "identity provider mapper"
    prune_key = "identityProviderMappers"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        mappers = live_mappers(ctx.live)
        for alias, idp in IDENTITY_PROVIDERS.of(ctx.config).items():
            if "mappers" not in idp.model_fields_set and self.prune_key not in ctx.prune:
                continue
            if alias not in ctx.live.identity_providers and idp.waits_for_credentials:
                continue
            have = mappers.get(alias, {})
            for name, mapper in idp.mappers.items():
                live = have.get(name)
                declared: dict[str, Any] = {"identityProviderMapper": mapper.type,
                                            "config": dict(mapper.config)}
                if live is None:
                    changes.append(Change(
                        self.name, f"{alias}/{name}", "create",
                        tuple(field_changes(declared, {})),
                        payload={"alias": alias, "representation": {
                            "name": name, "identityProviderAlias": alias, **declared}}))
                    continue
                fields = field_changes(declared, {**live, "config": live.get("config") or {}},
                                       exact=("config",))
                if fields:
                    changes.append(Change(
                        self.name, f"{alias}/{name}", "update", tuple(fields),
                        payload={"alias": alias, "id": live["id"], "representation": {
                            **live, **declared}}))
            changes += [
                Change(self.name, f"{alias}/{name}", "delete",
                       (FieldChange("name", name, None),),
                       payload={"alias": alias, "id": live["id"]})
                for name, live in have.items() if name not in idp.mappers
            ]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        alias = change.payload["alias"]
        if change.action == "create":
            api.create_identity_provider_mapper(alias, change.payload["representation"])
        elif change.action == "update":
            api.update_identity_provider_mapper(alias, change.payload["id"],
                                                change.payload["representation"])
        else:
            api.delete_identity_provider_mapper(alias, change.payload["id"])

    def export(self, live: LiveRealm) -> Json:
        """Each provider's mappers, in that provider's entry."""
        return {"identityProviders": {
            alias: {"mappers": {name: {"type": m["identityProviderMapper"],
                                       "config": dict(m.get("config") or {})}
                                for name, m in mappers.items()}}
            for alias, mappers in _mappers_written(live).items()}}


def _mappers_written(live: LiveRealm) -> dict[str, dict[str, Json]]:
    """Each provider's mappers as export writes them: the providers that have some; in
    a realm JSON that lists identityProviderMappers, every provider (the list is whole,
    so a provider it leaves out has none)."""
    found = live_mappers(live)
    whole = live.keep_empty and "identityProviderMappers" in live.export
    return {alias: found.get(alias, {}) for alias in live.identity_providers
            if found.get(alias) or whole}
