"""Components, in Keycloak's shape (RealmRepresentation.components): by provider type,
then by name, each with its providerId, subType, config (lists of strings) and
subComponents. What teams configure here: user federation (an LDAP provider and its
mappers) and key providers (generated keys and their priorities, imported keys).

Secret config values (an LDAP bind credential, an imported private key, a generated
secret) are references only. Keycloak masks them on read, so idpack keeps a salted
fingerprint beside each in the component's config and sends the value again only when
it changed. A component's `config` holds its provider's settings, Keycloak filling in
defaults for those not given, so the keys the file gives are exact and the others are
Keycloak's. Only the declared provider types are managed; pruning (`components`)
deletes undeclared components of those types, never the keys, policies and user
profile Keycloak makes with every realm."""

from __future__ import annotations

from typing import Any, ClassVar, Required

from pydantic import model_validator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import FINGERPRINT_PREFIX, MASKED, Kind, PlanContext, Section
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import SecretRef, Strict, Text, json_shape

# Config keys whose values are secrets, in the components teams declare.
SECRET_KEYS = frozenset({"bindCredential", "privateKey", "secret", "keystorePassword",
                         "keyPassword", "clientSecret"})
# The provider types export writes (and realm JSON brings over).
MANAGED_COMPONENT_TYPES = ("org.keycloak.storage.UserStorageProvider",
                           "org.keycloak.keys.KeyProvider")
# Components Keycloak makes with every realm: tuned perhaps, never pruned.
BUILT_IN_NAMES = frozenset({"rsa-generated", "rsa-enc-generated", "hmac-generated-hs512",
                            "hmac-generated", "aes-generated", "declarative-user-profile"})


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]


class Component(Strict):
    providerId: Text
    subType: Text | None = None
    config: dict[str, list[Text]] | None = None
    # Filled from config by the validator below: the secret values, as references.
    secretConfig: dict[str, SecretRef] | None = None
    subComponents: dict[str, dict[str, Component]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_secrets(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
            return data
        config, secrets = {}, {}
        for key, value in data["config"].items():
            values = _strings(value)  # Keycloak's config values are lists of strings
            if key not in SECRET_KEYS:
                config[key] = values
            elif len(values) != 1:
                raise ValueError(f"config.{key}: one secret reference")
            else:
                secrets[key] = values[0]  # SecretRef refuses anything but a reference
        return {**data, "config": config, "secretConfig": secrets or None}


# provider type -> name -> component (LDAP federation and its mappers, key providers)
COMPONENTS = Section[dict[str, dict[str, Component]]]("components", default_factory=dict)


@json_shape
class ComponentJson(TypedDict, total=False):
    name: str | None
    providerId: Required[str]
    subType: str | None
    config: dict[str, list[Any]] | None
    subComponents: dict[str, list[ComponentJson]] | None


def _walk(components: dict[str, list[Json]], parent: tuple[str, ...] = ()) -> dict[
        tuple[str, ...], Json]:
    """(type, name[, subtype, subname]) -> live component, sub-components too."""
    found: dict[tuple[str, ...], Json] = {}
    for kind, items in (components or {}).items():
        for item in items:
            if not item.get("name"):
                continue  # Keycloak's own unnamed ones (the user profile's provider)
            key = (*parent, kind, item["name"])
            found[key] = item
            found.update(_walk(item.get("subComponents") or {}, key))
    return found


def live_components(live: LiveRealm) -> dict[tuple[str, ...], Json]:
    return _walk(live.export.get("components") or {})


def _declared(components: dict[str, dict[str, Component]], parent: tuple[str, ...] = ()
              ) -> dict[tuple[str, ...], Component]:
    found: dict[tuple[str, ...], Component] = {}
    for kind, items in components.items():
        for name, component in items.items():
            key = (*parent, kind, name)
            found[key] = component
            found.update(_declared(component.subComponents or {}, key))
    return found


def fingerprint_attribute(key: tuple[str, ...], config_key: str) -> str:
    """The realm attribute that keeps a component secret's fingerprint (Keycloak drops
    config keys a provider does not know, so they cannot live beside the value)."""
    return f"{FINGERPRINT_PREFIX}component.{_title(key)}.{config_key}"


def _title(key: tuple[str, ...]) -> str:
    """The component's name path, type names shortened to their last part."""
    return "/".join(part.rsplit(".", 1)[-1] if i % 2 == 0 else part
                    for i, part in enumerate(key))


class ComponentsKind(Kind):
    name = "component"
    sections = (COMPONENTS,)
    representation: ClassVar = {"components": dict[str, list[ComponentJson]] | None}
    prune_key = "components"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        have = live_components(ctx.live)
        declared = _declared(COMPONENTS.of(ctx.config))
        for key, component in sorted(declared.items(), key=lambda item: len(item[0])):
            live = have.get(key)
            secrets = component.secretConfig or {}
            for name, secret in secrets.items():
                if secret.value is None:
                    raise ValueError(f"{_title(key)}: config.{name}: {secret.problem}")
            if live is None:
                fields = [FieldChange("providerId", None, component.providerId)]
                fields += [FieldChange(f"config.{k}", None, v)
                           for k, v in sorted((component.config or {}).items())]
                fields += [FieldChange(f"config.{k}", secret=True) for k in sorted(secrets)]
                changes.append(Change(self.name, _title(key), "create", tuple(fields),
                                      payload={"key": key, "component": component}))
                continue
            config = live.get("config") or {}
            fields = []
            if live.get("providerId") != component.providerId:
                fields.append(FieldChange("providerId", live.get("providerId"),
                                          component.providerId))
            if component.subType is not None and live.get("subType") != component.subType:
                fields.append(FieldChange("subType", live.get("subType"), component.subType))
            fields += [FieldChange(f"config.{k}", config.get(k), v)
                       for k, v in sorted((component.config or {}).items())
                       if config.get(k) != v]
            fields += [FieldChange(f"config.{k}", secret=True) for k, s in sorted(secrets.items())
                       if not s.matches(ctx.live.attributes.get(fingerprint_attribute(key, k)))]
            if fields:
                changes.append(Change(self.name, _title(key), "update", tuple(fields),
                                      payload={"key": key, "component": component,
                                               "live": live, "changed_secrets": [
                                                   f.path.removeprefix("config.")
                                                   for f in fields if f.secret]}))
        if self.prune_key in ctx.prune:
            types = {key[:-1] for key in declared}  # (parent..., type) the file manages
            changes += [Change(self.name, _title(key), "delete",
                               (FieldChange("name", key[-1], None),),
                               payload={"id": live["id"]})
                        for key, live in sorted(have.items())
                        if key[:-1] in types and key not in declared
                        and key[-1] not in BUILT_IN_NAMES]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "delete":
            api.delete_component(change.payload["id"])
            return
        key: tuple[str, ...] = change.payload["key"]
        component: Component = change.payload["component"]
        config: dict[str, list[str]] = dict(component.config or {})
        fingerprints: dict[str, str] = {}
        for name, secret in (component.secretConfig or {}).items():
            if change.action == "update" and name not in change.payload["changed_secrets"]:
                continue  # unchanged: Keycloak keeps the value it has
            assert secret.value is not None
            config[name] = [secret.value]
            fingerprints[fingerprint_attribute(key, name)] = secret.fingerprint()
        if fingerprints:
            api.update({"attributes": fingerprints})
        if change.action == "create":
            api.create_component({"name": key[-1], "providerId": component.providerId,
                                  "providerType": key[-2], "subType": component.subType,
                                  "parentId": _parent_id(api, key), "config": config})
            return
        live: Json = change.payload["live"]
        merged = {k: v for k, v in (live.get("config") or {}).items() if v != [MASKED]}
        api.update_component(live["id"], {
            "id": live["id"], "name": key[-1], "providerId": component.providerId,
            "providerType": key[-2], "subType": component.subType or live.get("subType"),
            "parentId": _parent_id(api, key), "config": {**merged, **config}})

    def export(self, live: LiveRealm) -> Json | None:
        """The federation and key components, secrets as references to set."""
        exported: dict[str, Any] = {}
        for kind in MANAGED_COMPONENT_TYPES:
            items = (live.export.get("components") or {}).get(kind) or []
            entries = {item["name"]: _exported(item) for item in items
                       if item.get("name") and item["name"] not in BUILT_IN_NAMES}
            if entries:
                exported[kind] = entries
        return {"components": exported} if exported else None


def _exported(item: Json) -> Json:
    config = {k: v for k, v in (item.get("config") or {}).items()
              if not k.startswith(FINGERPRINT_PREFIX)}
    for key in SECRET_KEYS & set(config):
        variable = f"{item['name']}_{key}".upper().replace("-", "_").replace(".", "_")
        config[key] = [f"${{env:{variable}}}"]
    entry: Json = {"providerId": item["providerId"]}
    if item.get("subType"):
        entry["subType"] = item["subType"]
    if config:
        entry["config"] = config
    subs = {kind: {s["name"]: _exported(s) for s in items if s.get("name")}
            for kind, items in (item.get("subComponents") or {}).items() if items}
    if subs:
        entry["subComponents"] = subs
    return entry


def _parent_id(api: RealmAdmin, key: tuple[str, ...]) -> str:
    """The realm's id for a top-level component, else its parent component's."""
    realm_id = str(api.get()["id"])
    if len(key) == 2:
        return realm_id
    parent = api.components(parent=realm_id, type_=key[-4], name=key[-3])
    if not parent:
        raise ValueError(f"no component {_title(key[:-2])} to hang {key[-1]} under")
    return str(parent[0]["id"])
