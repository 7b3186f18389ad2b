"""The user index across a restart of Keycloak itself: a Keycloak of this module's own
(the session's serves every other module), stopped and started on the same database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from extensions.sidecar.roles import Role
from extensions.sidecar.user_index import IndexTiming
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.errors import KeycloakUnavailable
from idpack.keycloak.harness import start_ephemeral_keycloak
from idpack.keycloak.server import KeycloakServer
from tests.integration.sidecar.test_user_index import (
    brief,
    index_view,
    keycloak_view,
    sidecar_directory,
)
from tests.support.keycloak import harness_settings
from tests.support.sidecar import SidecarRealm, sidecar_realm_applied


@pytest.fixture(scope="module")
def own_keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeycloakServer]:
    server = start_ephemeral_keycloak(tmp_path_factory.mktemp("keycloak"), harness_settings())
    try:
        yield server
    finally:
        server.stop()


def test_the_index_answers_while_keycloak_is_down_and_catches_up_after(
        own_keycloak: KeycloakServer, tmp_path: Path) -> None:
    admin = KeycloakAdminClient.connect(own_keycloak.target, timeout=60)  # a busy machine
    with sidecar_realm_applied(own_keycloak.target, admin, tmp_path) as realm:
        kept = f"kept-{secrets.token_hex(3)}"
        kept_id = realm.user(kept, password=None)
        doomed_id = realm.user(f"doomed-{secrets.token_hex(3)}", password=None)
        index = sidecar_directory(own_keycloak.url, realm.name).follow_users(
            str(tmp_path / "index.sqlite"), IndexTiming(scan_seconds=3600), start=False)
        index.catch_up()

        own_keycloak.stop()
        assert brief(index.lookup([kept])) == {kept: (kept_id, Role.USER)}  # from the table
        with pytest.raises(KeycloakUnavailable):
            index.step()  # the follower's loop logs it and tries again

        own_keycloak.start()
        restarted = KeycloakAdminClient.connect(own_keycloak.target, timeout=60)
        after = SidecarRealm(realm.name, own_keycloak.target, restarted.realm(realm.name))
        newcomer = f"after-{secrets.token_hex(3)}"
        newcomer_id = after.user(newcomer, password=None, role="ADMIN")
        after.api.delete_user(doomed_id)
        index.step()  # the same follower: its client logs in again

        assert brief(index.lookup([newcomer])) == {newcomer: (newcomer_id, Role.ADMIN)}
        assert index_view(index.table) == keycloak_view(after.api)
