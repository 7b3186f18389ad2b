"""Fixtures of the end-to-end tests: the stack `make run` starts (tests/e2e/stack.py).
Chromium (`browser`) is the root conftest's, shared with the deploy tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idpack.keycloak.target import KeycloakTarget
from tests.e2e.stack import Stack, running_stack


@pytest.fixture(scope="package")
def stack(keycloak: KeycloakTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack of `make run`, with the dev overlay."""
    with running_stack(keycloak, tmp_path_factory.mktemp("e2e")) as running:
        yield running
