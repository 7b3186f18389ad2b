"""The declarative user profile. Keycloak's PUT replaces the whole document, so apply
reads the live one, puts the declared attribute into it and sends it all back:
username, email and attributes the file does not declare are never dropped (unless
pruned). A declared attribute's declared fields are exact, its validations,
annotations, permissions, required and selector whole."""

from __future__ import annotations

from typing import Any, Literal, Required

from pydantic import Field
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, Section
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Bool, Strict, Text, json_shape

BUILT_IN_ATTRIBUTES = frozenset({"username", "email", "firstName", "lastName"})
COMPARED_WHOLE = ("validations", "annotations", "permissions", "required", "selector")


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


class UserProfile(Strict):
    unmanagedAttributePolicy: Literal["ENABLED", "ADMIN_VIEW", "ADMIN_EDIT"] | None = None
    attributes: dict[str, ProfileAttribute] = Field(default_factory=dict)


USER_PROFILE = Section[UserProfile | None]("userProfile", default=None)


@json_shape
class ProfileAttributeJson(TypedDict, total=False):
    name: Required[str]


@json_shape
class ProfileDocumentJson(TypedDict, total=False):
    """The user profile as realm JSON holds it: a JSON text in the config of its
    component (org.keycloak.userprofile.UserProfileProvider, kc.user.profile.config)."""

    unmanagedAttributePolicy: str | None
    attributes: list[ProfileAttributeJson] | None


def attribute_document(name: str, attribute: ProfileAttribute) -> dict[str, Any]:
    return {"name": name, **attribute.model_dump(exclude_none=True)}


def _declared(attribute: ProfileAttribute) -> dict[str, Any]:
    declared = attribute.declared()
    return {k: (v.model_dump(exclude_none=True) if hasattr(v, "model_dump") else v)
            for k, v in declared.items()}


class UserProfileKind(Kind):
    name = "user profile attribute"
    sections = (USER_PROFILE,)
    prune_key = "userProfileAttributes"

    def plan(self, ctx: PlanContext) -> list[Change]:
        profile = USER_PROFILE.of(ctx.config)
        if profile is None:
            return []
        live_doc = ctx.live.user_profile or {}
        live = {a["name"]: a for a in live_doc.get("attributes", [])}
        changes = []
        if (profile.unmanagedAttributePolicy is not None
                and live_doc.get("unmanagedAttributePolicy") != profile.unmanagedAttributePolicy):
            changes.append(Change("user profile", "unmanagedAttributePolicy", ctx.action, (
                FieldChange("unmanagedAttributePolicy", live_doc.get("unmanagedAttributePolicy"),
                            profile.unmanagedAttributePolicy),),
                payload={"policy": profile.unmanagedAttributePolicy}))
        for name, attribute in profile.attributes.items():
            declared = _declared(attribute)
            if name not in live:
                document = attribute_document(name, attribute)
                changes.append(Change(self.name, name, "create", tuple(field_changes(
                    {k: v for k, v in document.items() if k != "name"}, {}, whole=COMPARED_WHOLE)),
                    payload={"attribute": document}))
                continue
            fields = field_changes(declared, live[name], whole=COMPARED_WHOLE)
            if fields:
                changes.append(Change(self.name, name, "update", tuple(fields),
                                      payload={"attribute": {**live[name], **declared}}))
        if self.prune_key in ctx.prune:
            keep = set(profile.attributes) | BUILT_IN_ATTRIBUTES
            changes += [Change(self.name, name, "delete", (FieldChange("name", name, None),),
                               payload={})
                        for name in live if name not in keep]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        document = api.user_profile()
        if change.kind == "user profile":
            document["unmanagedAttributePolicy"] = change.payload["policy"]
        else:
            attributes = [a for a in document.get("attributes", []) if a["name"] != change.name]
            if change.action != "delete":
                position = next((i for i, a in enumerate(document.get("attributes", []))
                                 if a["name"] == change.name), len(attributes))
                attributes.insert(position, change.payload["attribute"])
            document["attributes"] = attributes
        api.put_user_profile(document)

    def export(self, live: LiveRealm) -> Json | None:
        if live.user_profile is None:
            return None
        document = live.user_profile
        profile: Json = {}
        if document.get("unmanagedAttributePolicy"):
            profile["unmanagedAttributePolicy"] = document["unmanagedAttributePolicy"]
        profile["attributes"] = {
            a["name"]: {k: v for k, v in a.items()
                        if k in ProfileAttribute.model_fields and v not in (None, {}, [])}
            for a in document.get("attributes") or []
        }
        return {"userProfile": profile}
