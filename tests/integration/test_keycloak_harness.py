"""The harness against the real, pinned Keycloak."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient, KeycloakUnavailable, ServiceAccountLogin
from idpack.keycloak.distribution import prepare_distribution
from idpack.keycloak.harness import start_ephemeral_keycloak
from idpack.keycloak.server import KeycloakServer, KeycloakStartError, PortInUse
from idpack.keycloak.settings import HarnessSettings
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import free_port
from tests.support.processes import processes_mentioning


def test_started_server_serves_the_admin_api_and_leaves_nothing_after_stop(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "keycloak"
    server = start_ephemeral_keycloak(instance)
    try:
        assert server.startup_seconds is not None
        client = KeycloakAdminClient.connect(server.target)
        assert client.access_token().count(".") == 2  # a signed JWT

        client.create_realm({"realm": "harness-check", "enabled": True,
                             "displayName": "Harness check"})
        assert client.get_realm("harness-check")["displayName"] == "Harness check"
        client.delete_realm("harness-check")
        assert "harness-check" not in client.realm_names()
        assert processes_mentioning(str(instance))
    finally:
        server.stop()

    assert not server.is_running()
    assert processes_mentioning(str(instance)) == []


def test_each_module_gets_a_realm_of_its_own(realm: str,
                                             keycloak_admin: KeycloakAdminClient) -> None:
    assert realm.startswith("t-keycloak-harness-")
    assert keycloak_admin.get_realm(realm)["enabled"] is True


def test_the_generated_admin_password_is_not_a_default(keycloak: KeycloakTarget) -> None:
    assert keycloak.admin_password not in {"admin", "password", "changeme"}
    assert len(keycloak.admin_password) >= 20


def test_a_taken_port_is_reported_before_java_starts(tmp_path: Path) -> None:
    dist = prepare_distribution(HarnessSettings.from_env())
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = KeycloakServer(dist, tmp_path / "kc", host="127.0.0.1", http_port=taken,
                                management_port=free_port(), admin_user="admin",
                                admin_password="not-used-Pw1!")

        with pytest.raises(PortInUse, match=rf"127\.0\.0\.1:{taken} is already in use"):
            server.start()

    assert server.pid is None
    assert processes_mentioning(str(tmp_path)) == []


def test_a_server_that_fails_to_start_reports_the_end_of_its_log(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(KeycloakStartError) as caught:
        start_ephemeral_keycloak(tmp_path / "kc",
                                 extra_args=["--http-max-queued-requests=lots"])

    message = str(caught.value)
    assert "exited with code" in message
    assert "Invalid value for option '--http-max-queued-requests'" in message
    assert time.monotonic() - started < 60
    assert processes_mentioning(str(tmp_path)) == []


def test_a_service_of_a_realm_not_made_yet_is_told_so(keycloak: KeycloakTarget) -> None:
    """A deployment's services start before its realm job has applied the realm: they
    say the realm is missing, not that KEYCLOAK_URL is wrong."""
    client = KeycloakAdminClient.for_service_account(
        keycloak.url, ServiceAccountLogin("not-applied-yet", "idpack-sidecar", "secret"))

    with pytest.raises(KeycloakUnavailable) as refused:
        client.access_token()

    message = str(refused.value)
    assert "has no realm not-applied-yet" in message
    assert "idpack realm apply" in message
    assert "KEYCLOAK_URL" not in message

