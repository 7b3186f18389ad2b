"""The portal's tests: the portal, the sidecar and a MikroCloud realm on real ports
(tests/support/portal.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.portal import PortalStack, portal_stack


@pytest.fixture(scope="package")
def stack(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalStack]:
    with portal_stack(keycloak, keycloak_admin, tmp_path_factory.mktemp("portal")) as running:
        yield running
