"""The declarative user profile. Keycloak's PUT replaces the whole document, so apply
reads the live one, merges the declared attributes into it and sends it all back:
username, email and attributes the file does not manage are never dropped."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext
from provisioning.plan import Change, FieldChange
from provisioning.schema import ProfileAttribute

BUILT_IN_ATTRIBUTES = frozenset({"username", "email", "firstName", "lastName"})
COMPARED_WHOLE = ("validations", "annotations", "permissions", "required", "selector")


def attribute_document(name: str, attribute: ProfileAttribute) -> dict[str, Any]:
    return {"name": name, **attribute.model_dump(exclude_none=True)}


def _declared(attribute: ProfileAttribute) -> dict[str, Any]:
    declared = attribute.declared()
    return {k: (v.model_dump(exclude_none=True) if hasattr(v, "model_dump") else v)
            for k, v in declared.items()}


class UserProfileKind:
    name = "user profile attribute"

    def plan(self, ctx: PlanContext) -> list[Change]:
        profile = ctx.config.userProfile
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
        if "userProfileAttributes" in ctx.prune:
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
