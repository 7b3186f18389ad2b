"""Identity providers (Google, GitHub, Microsoft, OIDC, SAML). Config is compared key
by key, the client secret by fingerprint; SAML metadata is parsed by Keycloak itself
at plan time and declared config wins over it."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import FINGERPRINT_PREFIX, PlanContext
from provisioning.plan import Change, FieldChange
from provisioning.schema import IdentityProvider

SECRET_FINGERPRINT = FINGERPRINT_PREFIX + "clientSecret"
# Keycloak leaves these out of a provider made without them; they mean false.
LIVE_DEFAULTS = {"trustEmail": False, "storeToken": False, "linkOnly": False,
                 "hideOnLogin": False}
NOT_SENT = {"config", "clientSecret", "metadata", "mappers"}


def desired_config(alias: str, idp: IdentityProvider, ctx: PlanContext) -> dict[str, str]:
    return {**ctx.imported_metadata.get(alias, {}), **idp.config}


class IdentityProvidersKind:
    name = "identity provider"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for alias, idp in ctx.config.identityProviders.items():
            live = ctx.live.identity_providers.get(alias)
            config = desired_config(alias, idp, ctx)
            secret = idp.clientSecret if idp.clientSecret and idp.clientSecret.value else None
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
        if "identityProviders" in ctx.prune:
            changes += [Change(self.name, alias, "delete", (FieldChange("alias", alias, None),))
                        for alias in ctx.live.identity_providers
                        if alias not in ctx.config.identityProviders]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "create":
            api.create_identity_provider(change.payload)
        elif change.action == "update":
            api.update_identity_provider(change.name, change.payload)
        else:
            api.delete_identity_provider(change.name)


class IdentityProviderMappersKind:
    name = "identity provider mapper"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        for alias, idp in ctx.config.identityProviders.items():
            live_mappers = ctx.live.identity_provider_mappers.get(alias, {})
            for name, mapper in idp.mappers.items():
                live = live_mappers.get(name)
                declared: dict[str, Any] = {"identityProviderMapper": mapper.type,
                                            "config": dict(mapper.config)}
                if live is None:
                    changes.append(Change(
                        self.name, f"{alias}/{name}", "create",
                        tuple(field_changes(declared, {})),
                        payload={"alias": alias, "representation": {
                            "name": name, "identityProviderAlias": alias, **declared}}))
                    continue
                fields = field_changes(declared, live)
                if fields:
                    changes.append(Change(
                        self.name, f"{alias}/{name}", "update", tuple(fields),
                        payload={"alias": alias, "id": live["id"], "representation": {
                            **live, "identityProviderMapper": mapper.type,
                            "config": {**live.get("config", {}), **mapper.config}}}))
            if "identityProviderMappers" in ctx.prune:
                changes += [
                    Change(self.name, f"{alias}/{name}", "delete",
                           (FieldChange("name", name, None),),
                           payload={"alias": alias, "id": live["id"]})
                    for name, live in live_mappers.items() if name not in idp.mappers
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
