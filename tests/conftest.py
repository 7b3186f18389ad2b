"""Fixtures shared by every test: one real Keycloak per test session, one realm per
test module.

The server is the pinned distribution started by idpack's own harness on random free
ports, unless KEYCLOAK_URL (with KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD) names an
existing one. If it cannot be had, every test that needs it errors with the reason:
nothing is skipped."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from mail.relay import Relay
from tests.e2e.browser import launch
from tests.support.keycloak import keycloak_for_tests
from tests.support.redis_server import redis_server
from tests.support.relay import running_relay

TESTS = Path(__file__).parent
MARKER_BY_FOLDER = {"unit": "unit", "peers": "peers", "integration": "integration",
                    "e2e": "e2e", "security": "security", "deploy": "deploy"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test's folder says what it needs: tests/unit nothing, tests/peers real servers
    on loopback (SMTP peers, Redis, idpack's own processes) but no Keycloak,
    tests/integration a real Keycloak, tests/e2e a browser too. tests/security holds
    one module per hole found and closed (its tests mark what they need themselves)."""
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0]
        if folder in MARKER_BY_FOLDER:
            item.add_marker(MARKER_BY_FOLDER[folder])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright, one for the session (one Playwright per
    thread is all the sync API allows): the e2e and deploy journeys."""
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeycloakTarget]:
    """With idpack's themes, as `make run` starts it."""
    with keycloak_for_tests(tmp_path_factory.mktemp("keycloak")) as target:
        KeycloakAdminClient.connect(target)  # an existing one must answer, or fail here
        yield target


@pytest.fixture(scope="session")
def keycloak_admin(keycloak: KeycloakTarget) -> KeycloakAdminClient:
    return KeycloakAdminClient.connect(keycloak)


@pytest.fixture(scope="module")
def realm(keycloak_admin: KeycloakAdminClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A realm of the test module's own, removed afterwards, so modules never see each
    other's users or settings."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    name = f"t-{module.replace('_', '-')}-{secrets.token_hex(3)}"
    keycloak_admin.create_realm({"realm": name, "enabled": True})
    try:
        yield name
    finally:
        keycloak_admin.delete_realm(name)


@pytest.fixture
def fresh_realm_name(keycloak_admin: KeycloakAdminClient,
                     request: pytest.FixtureRequest) -> Iterator[str]:
    """A name no realm has yet; whatever the test creates under it is removed after."""
    name = f"t-{request.node.name[:24].replace('_', '-').strip('-')}-{secrets.token_hex(3)}"
    try:
        yield name
    finally:
        if name in keycloak_admin.realm_names():
            keycloak_admin.delete_realm(name)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis (Debian's redis-server) for the store's second backend."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["sqlite"])
def relay(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    """A relay of the test's own: fresh keys, free ports, delivering into a Maildir.
    Parametrize with "redis" (indirect) to keep links and windows in Redis."""
    store = request.getfixturevalue("redis_url") if request.param == "redis" else None
    with running_relay(tmp_path, store) as running:
        yield running
