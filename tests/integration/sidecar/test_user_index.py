"""lookupUsers answers from an in-memory index that follows Keycloak's admin events."""

from __future__ import annotations

import secrets
import time

from extensions.sidecar.directory import Directory
from extensions.sidecar.roles import Role
from idpack.keycloak.admin import KeycloakAdminClient, ServiceAccountLogin
from tests.support.realm import SECRETS
from tests.support.sidecar import SidecarRealm


def eventually(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def test_the_index_follows_creations_role_changes_and_deletions(
        sidecar_realm: SidecarRealm) -> None:
    client = KeycloakAdminClient.for_service_account(
        sidecar_realm.keycloak.url, ServiceAccountLogin(
            sidecar_realm.name, "idpack-sidecar", SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"]))
    known = f"uma-{secrets.token_hex(3)}"
    known_id = sidecar_realm.user(known)
    people = Directory(client, sidecar_realm.name)
    people.follow_users(poll_seconds=0.2)
    assert people.index is not None
    eventually(lambda: people.index is not None and people.index.loaded)
    before = client.requests_made

    assert people.lookup([known]) == {known: (known_id, Role.USER)}
    assert client.requests_made == before  # answered from memory

    newcomer = f"vic-{secrets.token_hex(3)}"
    newcomer_id = sidecar_realm.user(newcomer)
    assert people.lookup([newcomer]) == {newcomer: (newcomer_id, Role.USER)}  # asked Keycloak

    sidecar_realm.api.add_realm_role_mappings(known_id, [sidecar_realm.api.role("ADMIN")])
    eventually(lambda: people.lookup([known])[known] == (known_id, Role.ADMIN))

    sidecar_realm.api.delete_user(known_id)
    eventually(lambda: people.lookup([known])[known] is None)
