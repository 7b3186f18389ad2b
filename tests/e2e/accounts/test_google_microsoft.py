"""Google and Microsoft sign-in, as far as it can be proven without Google and Microsoft.

Keycloak's Google and Microsoft providers have their endpoints built in (the Microsoft
one takes a tenant, nothing else), unlike its GitHub provider (base URL and API URL) or
a generic OpenID Connect provider, so no local stand-in can play them: these tests check
the realm configuration through the Admin API (with this package's overlay switching
both on with dummy OAuth apps), the buttons on the hosted login page, and that a click
sends the browser to accounts.google.com or login.microsoftonline.com with the seed's
scopes, whatever URL the stored configuration names. Every request to a host other than
this machine is answered by the test itself: nothing reaches the internet."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from idpack.keycloak.admin import KeycloakAdminClient
from tests.e2e.accounts.conftest import PROVIDER_ENV
from tests.e2e.browser import Screenshots
from tests.e2e.stack import Stack

SEED_SCOPES = "openid profile email"  # MikroCloud's table, for both
# Where each provider's authorization request must go (Keycloak's built-in URLs).
AUTHORIZATION = {
    "google": ("accounts.google.com", "/o/oauth2/v2/auth"),
    "microsoft": ("login.microsoftonline.com", "/common/oauth2/v2.0/authorize"),
}
CLIENT_IDS = {"google": PROVIDER_ENV["GOOGLE_CLIENT_ID"],
              "microsoft": PROVIDER_ENV["MICROSOFT_CLIENT_ID"]}
# realm-config's mappers: (mapper type, provider's field, user attribute). Names and the
# email need none: Keycloak's Google and Microsoft providers import them themselves.
MAPPERS = {
    "google": {"picture": ("google-user-attribute-mapper", "picture", "picture"),
               "locale": ("google-user-attribute-mapper", "locale", "locale")},
    "microsoft": {"locale": ("microsoft-user-attribute-mapper", "preferredLanguage",
                             "locale")},
}
NOT_LOCAL = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])")
STAND_IN_TEXT = "Stand-in for the provider: this test goes no further"
STAND_IN = f"<h1>{STAND_IN_TEXT}</h1>"


def provider(admin: KeycloakAdminClient, stack: Stack, alias: str) -> dict[str, Any]:
    found: dict[str, Any] = admin.send(
        "GET", f"/admin/realms/{stack.realm}/identity-provider/instances/{alias}")
    return found


@pytest.mark.parametrize("alias", ["google", "microsoft"])
def test_the_realm_asks_the_seed_scopes_and_maps_the_profile(
        stack: Stack, keycloak_admin: KeycloakAdminClient, alias: str) -> None:
    idp = provider(keycloak_admin, stack, alias)
    # The address is trusted once its owner followed the mailed link, never before:
    # mikrocloud first broker login links nothing until then.
    assert (idp["providerId"], idp["enabled"], idp["trustEmail"]) == (alias, True, True)
    assert idp["firstBrokerLoginFlowAlias"] == "mikrocloud first broker login"
    config = idp["config"]
    assert config["defaultScope"] == SEED_SCOPES
    assert config["clientId"] == CLIENT_IDS[alias]
    assert config["syncMode"] == "IMPORT"
    assert config["clientSecret"] == "**********"  # kept, never shown
    assert PROVIDER_ENV[f"{alias.upper()}_CLIENT_SECRET"] not in str(idp)

    mappers = keycloak_admin.send(
        "GET", f"/admin/realms/{stack.realm}/identity-provider/instances/{alias}/mappers")
    assert {m["name"]: (m["identityProviderMapper"], m["config"]["jsonField"],
                        m["config"]["userAttribute"]) for m in mappers} == MAPPERS[alias]
    assert {m["config"]["syncMode"] for m in mappers} == {"INHERIT"}


@contextmanager
def outside_answered_here(page: Page) -> Iterator[list[str]]:
    """Every request the page makes to another host is recorded and answered here."""
    outside: list[str] = []

    def stand_in(route: Route) -> None:
        outside.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=STAND_IN)

    page.context.route(NOT_LOCAL, stand_in)
    try:
        yield outside
    finally:
        page.context.unroute(NOT_LOCAL, stand_in)


def open_login_page(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.portal_url}/login")
    page.wait_for_selector("input[name=username]")


def test_the_login_page_shows_a_button_for_each_enabled_provider(
        browser: Browser, stack: Stack, keycloak_admin: KeycloakAdminClient) -> None:
    shots = Screenshots("provider-buttons")
    context = browser.new_context()
    page = context.new_page()
    with outside_answered_here(page):
        open_login_page(page, stack)
        expect(page.locator("#social-google")).to_have_text(re.compile("Google"))
        expect(page.locator("#social-microsoft")).to_have_text(re.compile("Microsoft"))
        shots.take(page, "login page with provider buttons")
        providers = keycloak_admin.send(
            "GET", f"/admin/realms/{stack.realm}/identity-provider/instances")
        for idp in providers:  # the others of realm-config, off in the dev overlay
            expect(page.locator(f"#social-{idp['alias']}")).to_have_count(
                1 if idp["enabled"] else 0)
    context.close()


def click_provider(page: Page, stack: Stack, alias: str) -> dict[str, Any]:
    """Click the button; the authorization request Keycloak redirects the browser to.

    The click leads to Keycloak's broker endpoint, which answers with a redirect to the
    provider. The test makes that request itself, without following the redirect, and
    shows the browser a stand-in page instead, so the browser never leaves the machine
    (Playwright does not route the targets of redirects)."""
    redirects: list[tuple[int, str]] = []

    def broker(route: Route) -> None:
        response = route.fetch(max_redirects=0)
        redirects.append((response.status, response.headers.get("location", "")))
        route.fulfill(status=200, content_type="text/html", body=STAND_IN)

    login = re.compile(rf"^{re.escape(stack.keycloak_url)}/realms/[^/]+/broker/{alias}/login\b")
    with outside_answered_here(page) as outside:
        page.context.route(login, broker)
        open_login_page(page, stack)
        page.locator(f"#social-{alias}").click()
        expect(page.get_by_text(STAND_IN_TEXT)).to_be_visible()
        page.context.unroute(login, broker)
    assert outside == []
    [(status, location)] = redirects
    assert status in (302, 303), (status, location)
    url = urlsplit(location)
    return {"scheme": url.scheme, "host": url.hostname, "path": url.path,
            **{k: v[0] for k, v in parse_qs(url.query).items()}}


@pytest.mark.parametrize("alias", ["google", "microsoft"])
def test_the_button_sends_the_browser_to_the_providers_own_endpoint(
        browser: Browser, stack: Stack, alias: str) -> None:
    context = browser.new_context()
    request = click_provider(context.new_page(), stack, alias)
    context.close()

    host, path = AUTHORIZATION[alias]
    assert (request["scheme"], request["host"], request["path"]) == ("https", host, path)
    assert request["client_id"] == CLIENT_IDS[alias]
    assert request["response_type"] == "code"
    assert request["scope"] == SEED_SCOPES
    assert request["redirect_uri"] == (
        f"{stack.keycloak_url}/realms/{stack.realm}/broker/{alias}/endpoint")
    assert request["state"]


@pytest.mark.parametrize("alias", ["google", "microsoft"])
def test_their_endpoints_are_fixed_whatever_the_configuration_says(
        browser: Browser, stack: Stack, keycloak_admin: KeycloakAdminClient,
        alias: str) -> None:
    """The limit that keeps Google and Microsoft out of local end-to-end logins: the
    Admin API takes authorization, token and user-info URLs for them, but Keycloak's
    providers use their own. (Their sign-up is left to a manual check with real OAuth
    apps; README, "Identity providers".)"""
    path = f"/admin/realms/{stack.realm}/identity-provider/instances/{alias}"
    original = provider(keycloak_admin, stack, alias)
    local = "http://127.0.0.1:9/stand-in"
    keycloak_admin.send("PUT", path, {**original, "config": {
        **original["config"], "authorizationUrl": f"{local}/authorize",
        "tokenUrl": f"{local}/token", "userInfoUrl": f"{local}/userinfo"}})
    context = browser.new_context()
    try:
        stored = provider(keycloak_admin, stack, alias)["config"]
        assert (stored["authorizationUrl"], stored["tokenUrl"]) == (
            f"{local}/authorize", f"{local}/token")  # taken and kept, but not used:
        request = click_provider(context.new_page(), stack, alias)
    finally:
        context.close()
        keycloak_admin.send("PUT", path, original)

    assert (request["host"], request["path"]) == AUTHORIZATION[alias]
    assert provider(keycloak_admin, stack, alias)["config"] == original["config"]
