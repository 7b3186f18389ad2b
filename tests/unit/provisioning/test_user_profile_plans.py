"""The user profile's plan from a declared file and a hand-built live profile document."""

from __future__ import annotations

from provisioning.kinds.user_profile import UserProfileKind
from provisioning.live import Json
from tests.unit.provisioning.realms import declared, fields, live_realm, plan, summary


def profile(*extra: Json, policy: str | None = None) -> Json:
    document: Json = {"attributes": [
        {"name": "username", "permissions": {"view": ["admin", "user"], "edit": ["admin"]}},
        {"name": "email", "permissions": {"view": ["admin", "user"], "edit": ["admin"]}},
        {"name": "country", "displayName": "Country", "multivalued": False,
         "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
         "annotations": {}, "validations": {}},
        *extra]}
    if policy is not None:
        document["unmanagedAttributePolicy"] = policy
    return document


COUNTRY = {"displayName": "Country", "permissions": {"view": ["admin", "user"],
                                                     "edit": ["admin", "user"]}}


def test_an_attribute_is_created_whole() -> None:
    config = declared(userProfile={"attributes": {"country": COUNTRY, "timezone": {
        "displayName": "Timezone", "selector": {"scopes": ["profile-details"]}}}})

    [change] = plan(UserProfileKind(), config, live_realm(profile=profile()))

    assert summary([change]) == [("user profile attribute", "timezone", "create")]
    assert change.payload["attribute"]["selector"] == {"scopes": ["profile-details"]}


def test_one_changed_attribute_field_is_one_change_and_the_rest_is_kept() -> None:
    config = declared(userProfile={"attributes": {"country": {
        **COUNTRY, "permissions": {"view": ["admin", "user"], "edit": ["admin"]}}}})

    [change] = plan(UserProfileKind(), config, live_realm(profile=profile()))

    assert fields(change) == [("permissions", {"view": ["admin", "user"],
                                               "edit": ["admin", "user"]},
                               {"view": ["admin", "user"], "edit": ["admin"]})]
    assert change.payload["attribute"]["displayName"] == "Country"


def test_the_unmanaged_attribute_policy_is_its_own_change() -> None:
    config = declared(userProfile={"unmanagedAttributePolicy": "ADMIN_EDIT",
                                   "attributes": {"country": COUNTRY}})

    [change] = plan(UserProfileKind(), config, live_realm(profile=profile(policy="ENABLED")))

    assert summary([change]) == [("user profile", "unmanagedAttributePolicy", "update")]
    assert fields(change) == [("unmanagedAttributePolicy", "ENABLED", "ADMIN_EDIT")]


def test_attributes_are_pruned_only_when_asked_and_never_a_built_in_one() -> None:
    config = declared(userProfile={"attributes": {"country": COUNTRY}})
    live = live_realm(profile=profile({"name": "stray"}, {"name": "firstName"}))

    assert plan(UserProfileKind(), config, live) == []
    assert summary(plan(UserProfileKind(), config, live, prune=("userProfileAttributes",))) == [
        ("user profile attribute", "stray", "delete")]
