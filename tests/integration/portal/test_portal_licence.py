"""A newer service licence is asked for at the very next sign-in, before the background
check reaches the user: the portal's first call (getUserInfo) is refused with
LICENCE_NOT_ACCEPTED, the sidecar gives the user Keycloak's terms action, and the portal
sends the browser through Keycloak again, which shows the terms (no password: its
session holds) and comes back to the profile."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator

import pytest

from extensions.sidecar.context import DIRECTORY
from extensions.sidecar.licence import ACCEPTED_AT, REQUIRED_ACTION, VERSIONS
from tests.support.portal import Browser, PortalStack, button_form, visible_text
from tests.support.sidecar import PASSWORD


def moment(seconds_from_now: float) -> str:
    at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds_from_now)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def terms(stack: PortalStack) -> Iterator[None]:
    """Keycloak's terms action on (not a default one) and no versions declared, for the
    test's length; the sidecar reads the realm's versions again at each change."""
    api = stack.realm.api
    action = next(a for a in api.required_actions() if a["alias"] == REQUIRED_ACTION)
    api.update_required_action(REQUIRED_ACTION, {**action, "enabled": True})
    try:
        yield
    finally:
        declare(stack, "")
        api.update_required_action(REQUIRED_ACTION, {**action, "enabled": False})


def declare(stack: PortalStack, versions: str) -> None:
    stack.realm.api.update({"attributes": {VERSIONS: versions}})
    assert stack.sidecar_app is not None
    stack.sidecar_app.extensions[DIRECTORY]._licence = (0.0, None)  # not after a minute


def signed_in(stack: PortalStack, prefix: str) -> tuple[str, Browser]:
    """A new user, signed in to the portal before any version is declared."""
    username = f"{prefix}-{secrets.token_hex(3)}"
    stack.realm.user(username)
    browser = Browser()
    assert browser.sign_in(stack.portal_url, username, PASSWORD).status_code == 200
    return username, browser


def test_a_signed_in_user_accepts_a_new_licence_at_the_next_sign_in(
        stack: PortalStack, terms: None) -> None:
    username, browser = signed_in(stack, "lisa")

    declare(stack, f"1@{moment(-3600)}")
    page = browser.get(stack.portal_url)  # the next visit: the terms, no password asked

    assert 'name="accept"' in page.text, visible_text(page)
    assert 'name="password"' not in page.text
    [user] = stack.realm.api.users_by_username(username)
    assert user["requiredActions"] == [REQUIRED_ACTION]
    action, fields = button_form(page, "accept")
    profile = browser.http.post(action, data=fields, timeout=30)
    assert profile.status_code == 200, visible_text(profile)
    assert profile.url == f"{stack.portal_url}/"
    assert f"{username}@example.org" in visible_text(profile)
    [user] = stack.realm.api.users_by_username(username)
    assert user["attributes"][ACCEPTED_AT]
    assert not user.get("requiredActions")


def test_the_portal_does_not_loop_when_keycloak_does_not_show_the_terms(
        stack: PortalStack, terms: None) -> None:
    _, browser = signed_in(stack, "leif")
    api = stack.realm.api
    action = next(a for a in api.required_actions() if a["alias"] == REQUIRED_ACTION)
    api.update_required_action(REQUIRED_ACTION, {**action, "enabled": False})

    declare(stack, f"1@{moment(-3600)}")
    page = browser.get(stack.portal_url)

    assert page.status_code == 403
    assert "The terms could not be shown" in visible_text(page)
    assert "Version 1 of the service licence agreement" in visible_text(page)
