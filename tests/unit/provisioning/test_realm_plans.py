"""The plans of the realm-wide kinds (settings, SMTP, events, required actions, roles,
default roles) from a declared file and a hand-built live realm, without a server."""

from __future__ import annotations

import pytest

from provisioning.kinds.default_roles import DefaultRolesKind
from provisioning.kinds.events import EventsKind
from provisioning.kinds.realm_settings import RealmSettingsKind
from provisioning.kinds.required_actions import RequiredActionsKind
from provisioning.kinds.roles import RolesKind
from provisioning.kinds.smtp import PASSWORD_FINGERPRINT, SmtpKind
from provisioning.live import LiveRealm
from tests.unit.provisioning.realms import (
    REALM,
    SECRETS,
    declared,
    fields,
    fingerprint,
    live_realm,
    plan,
    shown,
    summary,
)

# Realm settings


def test_a_missing_realm_is_created_enabled_with_the_declared_settings() -> None:
    config = declared(settings={"verifyEmail": True, "browserFlow": "mine"})

    [change] = plan(RealmSettingsKind(), config, LiveRealm(name=REALM, exists=False))

    assert summary([change]) == [("realm", REALM, "create")]
    assert change.payload == {"enabled": True, "verifyEmail": True}  # bindings come last


def test_one_changed_setting_is_planned_and_sent_alone() -> None:
    config = declared(settings={"verifyEmail": True, "displayName": "New",
                                "attributes": {"a": "1", "b": "2"}})
    live = live_realm(verifyEmail=True, displayName="Old", registrationAllowed=True,
                      attributes={"a": "1", "b": "2", "c": "set by others"})

    [change] = plan(RealmSettingsKind(), config, live)

    assert fields(change) == [("displayName", "Old", "New")]
    assert change.payload == {"displayName": "New"}


def test_a_changed_realm_attribute_is_sent_without_the_others() -> None:
    config = declared(settings={"attributes": {"a": "1", "b": "9"}})
    live = live_realm(attributes={"a": "1", "b": "2", "c": "set by others"})

    [change] = plan(RealmSettingsKind(), config, live)

    assert fields(change) == [("attributes.b", "2", "9")]
    assert change.payload == {"attributes": {"b": "9"}}


# SMTP

SMTP = {"host": "relay", "port": 2525, "from": "no-reply@example.com", "auth": True,
        "user": "keycloak", "password": "${env:SMTP_PASSWORD}"}


def smtp_live(password_fingerprint: str | None) -> LiveRealm:
    attributes = {PASSWORD_FINGERPRINT: password_fingerprint} if password_fingerprint else {}
    return live_realm(smtpServer={"host": "relay", "port": "2525", "from": "no-reply@example.com",
                                  "auth": "true", "user": "keycloak", "ssl": "false",
                                  "starttls": "false", "password": "**********"},
                      attributes=attributes)


def test_smtp_with_the_same_password_plans_nothing() -> None:
    live = smtp_live(fingerprint(SECRETS["SMTP_PASSWORD"]))

    assert plan(SmtpKind(), declared(smtp=SMTP), live) == []


def test_a_new_smtp_password_shows_only_that_it_changed() -> None:
    live = smtp_live(fingerprint("the-old-one"))

    [change] = plan(SmtpKind(), declared(smtp={**SMTP, "port": 587}), live)

    assert fields(change) == [("port", "2525", "587"), ("password", None, None)]
    assert change.fields[1].secret
    assert change.payload["smtpServer"]["password"] == SECRETS["SMTP_PASSWORD"]
    assert SECRETS["SMTP_PASSWORD"] not in shown([change])


def test_the_smtp_map_is_compared_whole() -> None:
    """Keycloak replaces the map whole, so a key the file leaves out is removed."""
    live = smtp_live(fingerprint(SECRETS["SMTP_PASSWORD"]))
    live.export["smtpServer"]["replyTo"] = "someone@example.com"

    [change] = plan(SmtpKind(), declared(smtp=SMTP), live)

    assert fields(change) == [("replyTo", "someone@example.com", None)]


# Events


def test_events_plan_only_what_differs() -> None:
    config = declared(events={"types": ["LOGIN", "REGISTER"], "expiration": 3600})
    live = live_realm(eventsEnabled=True, enabledEventTypes=["REGISTER", "LOGIN"],
                      eventsListeners=["jboss-logging"], adminEventsEnabled=False,
                      adminEventsDetailsEnabled=False, eventsExpiration=60)

    [change] = plan(EventsKind(), config, live)

    assert fields(change) == [("eventsExpiration", 60, 3600)]  # the types' order never counts


def test_events_not_declared_are_not_managed() -> None:
    assert plan(EventsKind(), declared(), live_realm(eventsEnabled=False)) == []


# Required actions

ACTIONS = [{"alias": "VERIFY_EMAIL", "enabled": True, "defaultAction": False, "priority": 50,
            "config": {"emailResendCooldownSeconds": "300"}}]


def test_a_required_actions_config_key_is_one_field() -> None:
    config = declared(requiredActions={"VERIFY_EMAIL": {
        "config": {"emailResendCooldownSeconds": 1}}})

    [change] = plan(RequiredActionsKind(), config, live_realm(requiredActions=ACTIONS))

    assert fields(change) == [("config.emailResendCooldownSeconds", "300", "1")]


def test_an_unregistered_required_action_is_an_error() -> None:
    config = declared(requiredActions={"webauthn-register": {"enabled": True}})

    with pytest.raises(ValueError, match="webauthn-register is not registered"):
        plan(RequiredActionsKind(), config, live_realm(requiredActions=ACTIONS))


# Roles

LIVE_ROLES = {"realm": [
    {"name": "USER", "description": "a user"}, {"name": "STRAY"},
    {"name": "offline_access"}, {"name": "uma_authorization"},
    {"name": f"default-roles-{REALM}", "composites": {"realm": ["offline_access", "OLD"]}}]}


def test_roles_are_created_and_updated_field_by_field() -> None:
    config = declared(roles={"USER": {"description": "a UCloud user"}, "ADMIN": {}})

    changes = plan(RolesKind(), config, live_realm(roles=LIVE_ROLES))

    assert summary(changes) == [("role", "USER", "update"), ("role", "ADMIN", "create")]
    assert fields(changes[0]) == [("description", "a user", "a UCloud user")]
    assert changes[1].payload == {"name": "ADMIN"}


def test_roles_are_pruned_only_when_asked_and_never_a_built_in_one() -> None:
    config = declared(roles={"USER": {"description": "a user"}})
    live = live_realm(roles=LIVE_ROLES)

    assert plan(RolesKind(), config, live) == []
    assert summary(plan(RolesKind(), config, live, prune=("roles",))) == [
        ("role", "STRAY", "delete")]


# Default roles


def test_default_roles_are_the_exact_declared_list() -> None:
    config = declared(defaultRoles=["offline_access", "USER"])

    [change] = plan(DefaultRolesKind(), config, live_realm(roles=LIVE_ROLES))

    assert fields(change) == [("realm roles", ["OLD", "offline_access"],
                               ["USER", "offline_access"])]
    assert change.payload == {"wanted": ["USER", "offline_access"]}


def test_default_roles_not_declared_are_not_managed() -> None:
    assert plan(DefaultRolesKind(), declared(), live_realm(roles=LIVE_ROLES)) == []
