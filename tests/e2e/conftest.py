"""Fixtures of the end-to-end tests: Chromium (Debian's, driven by Playwright) and the
stack `make run` starts (tests/e2e/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from idpack.keycloak.target import KeycloakTarget
from tests.e2e.browser import launch
from tests.e2e.stack import Stack, running_stack


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="package")
def stack(keycloak: KeycloakTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack of `make run`, with the dev overlay."""
    with running_stack(keycloak, tmp_path_factory.mktemp("e2e")) as running:
        yield running
